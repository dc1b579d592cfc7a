package vma

import (
	"errors"
	"fmt"
	"strings"
)

// VMStateDevice is the name of the device holding a VM's saved RAM state: not a disk.
const VMStateDevice = "vmstate"

// ErrDiskChoice is matched (errors.Is) by a *DiskChoiceError.
var ErrDiskChoice = errors.New("vma: cannot choose the disk device")

// DiskChoiceError reports that Disk could not pick one disk device.
type DiskChoiceError struct {
	Want    string   // the name asked for; "" when the single disk was wanted
	Devices []Device // every device of the archive
}

// Error names the devices the archive has and what to do.
func (e *DiskChoiceError) Error() string {
	var disks, all []string
	for _, d := range e.Devices {
		s := fmt.Sprintf("%d %q", d.ID, d.Name)
		all = append(all, s)
		if d.Name != VMStateDevice {
			disks = append(disks, s)
		}
	}
	switch {
	case e.Want != "":
		return fmt.Sprintf("vma: no disk device %q in the archive (%s)", e.Want, strings.Join(disks, ", "))
	case len(disks) == 0:
		return fmt.Sprintf("vma: the archive has no disk device (only %s)", strings.Join(all, ", "))
	}
	return fmt.Sprintf("vma: the archive has %d disk devices (%s): choose one by name", len(disks), strings.Join(disks, ", "))
}

// Is reports whether target is ErrDiskChoice.
func (e *DiskChoiceError) Is(target error) bool { return target == ErrDiskChoice }

// Disk returns the disk device named name, or with name "" the archive's
// only disk device (every device but "vmstate"). An archive with no disk,
// or with more than one and no name, is a *DiskChoiceError naming them.
func (vr *Reader) Disk(name string) (Device, error) {
	var found []Device
	for _, d := range vr.devs {
		if d.Name != VMStateDevice && (name == "" || d.Name == name) {
			found = append(found, d)
		}
	}
	if len(found) == 1 {
		return found[0], nil
	}
	return Device{}, &DiskChoiceError{Want: name, Devices: vr.Devices()}
}
