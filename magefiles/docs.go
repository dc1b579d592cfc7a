//go:build mage

package main

import (
	"fmt"
	"os"

	"github.com/wdiazux/infra/internal/docgen"
)

// go run mage.go reads the targets' doc comments with their line breaks;
// the next line makes an installed mage binary do the same, so that its -h
// prints the paragraphs docs/reference/targets.md shows (the first line
// stays -l's summary):
//
// mage:multiline

// Docs regenerates the generated documentation: the Terraform module READMEs' tables, docs/reference/targets.md and docs/reference/inventory.md.
//
// Each generated part lies between a BEGIN GENERATED and an END GENERATED
// marker; the text around the markers is written by hand and kept. The
// module READMEs get their inputs and outputs tables from the modules' .tf
// files; the targets reference gets every target, its usage line, its doc
// comment and its flags from magefiles/, as -l and -h read them; the
// inventory reference gets its tables from lib/inventory's structs, yaml
// tags and field doc comments. Only files that changed are written.
// -check writes nothing and prints each file that differs, with the line
// of the first difference, and fails; the lint step docs and the tests of
// internal/docgen check the same. See docs/operations/quality.md.
func Docs(
	// report each drifted file and fail, writing nothing
	check *bool,
) error {
	root, err := os.Getwd()
	if err != nil {
		return fmt.Errorf("find the repository root (the working directory): %w", err)
	}
	docs, err := docgen.All(root)
	if err != nil {
		return err
	}
	if isSet(check) {
		drifts, err := docgen.Check(root, docs)
		if err != nil {
			return err
		}
		for _, d := range drifts {
			fmt.Println(d)
		}
		if len(drifts) > 0 {
			return fmt.Errorf("%d generated doc(s) differ from their sources: run %s", len(drifts), docgen.Regenerate)
		}
		fmt.Printf("%d generated doc(s) up to date\n", len(docs))
		return nil
	}
	written, err := docgen.Write(root, docs)
	for _, p := range written {
		fmt.Println("wrote", p)
	}
	if err != nil {
		return err
	}
	fmt.Printf("%d generated doc(s), %d rewritten\n", len(docs), len(written))
	return nil
}
