// Package talosfactory is a small client of the Talos Image Factory
// (factory.talos.dev, or your own): schematics built from the inventory with
// their IDs computed locally and checked against the factory's, the Talos
// versions and official extensions it offers (to reject a typo before
// anything is built), image URLs, installer references, and streaming an
// image to compute its checksum. Every request runs under lib/netx's time
// limits (an image stream under its idle limit instead of an overall one),
// and a factory that stops answering is an error naming the host and the
// phase.
package talosfactory
