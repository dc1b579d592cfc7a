package addons

import "fmt"

// InventoryError is an inventory fact the add-ons cannot work with.
type InventoryError struct {
	// Field is the inventory field at fault, e.g. "services[1].namespace".
	Field string
	// Problem says what is wrong and what to do.
	Problem string
}

// Error says which field is wrong and what to do.
func (e *InventoryError) Error() string {
	return fmt.Sprintf("inventory field %s: %s", e.Field, e.Problem)
}

// FileError is a file of the kubernetes/ tree that cannot be read or
// rendered.
type FileError struct {
	// Path is the file or folder.
	Path string
	// Err is the cause.
	Err error
}

// Error names the file and the cause.
func (e *FileError) Error() string { return fmt.Sprintf("%s: %v", e.Path, e.Err) }

// Unwrap returns the cause.
func (e *FileError) Unwrap() error { return e.Err }
