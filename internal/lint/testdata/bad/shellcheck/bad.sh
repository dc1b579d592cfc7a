#!/bin/sh
# A script with an unquoted variable (SC2086).
dir=$1
ls $dir
