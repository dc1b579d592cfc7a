module example.com/tools/tflint

go 1.26

require github.com/terraform-linters/tflint v0.63.0

require golang.org/x/text v0.30.0 // indirect
