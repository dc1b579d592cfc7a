package vma_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/wdiazux/infra/lib/vma"
)

// Example reads a VMA archive and reports its devices and how many clusters hold data.
// A converter would write c.Data at c.Offset of device c.Device and skip zero clusters.
func Example() {
	r, err := vma.NewReader(bytes.NewReader(nil)) // an empty stream is not an archive
	var fe *vma.FormatError
	if errors.As(err, &fe) {
		fmt.Println(fe.Field, errors.Is(err, io.ErrUnexpectedEOF))
	}
	if r == nil {
		return
	}
	for _, d := range r.Devices() {
		fmt.Println(d.ID, d.Name, d.Size)
	}
	for {
		c, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			fmt.Println(err)
			return
		}
		_ = c
	}
	// Output: header true
}
