// Package talosfactory is a small client of the Talos Image Factory
// (factory.talos.dev, or your own): schematics built from the inventory with
// their IDs computed locally and checked against the factory's, the Talos
// versions and official extensions it offers (to reject a typo before
// anything is built), image URLs, installer references, and streaming an
// image to compute its checksum.
package talosfactory
