//go:build mage

package main

import (
	"fmt"
	"net/http"

	"github.com/wdiazux/infra/lib/proxmox"
)

// proxmoxAdvice adds to an error of the Proxmox client the command that
// finds every cause of its kind at once: a privilege the token lacks (403)
// or a content type a storage does not allow.
func proxmoxAdvice(err error) error {
	if proxmox.IsStatus(err, http.StatusForbidden) || proxmox.IsContentNotConfigured(err) {
		return fmt.Errorf("%w\nrun: go run mage.go proxmox:preflight    # lists every privilege and content type the plan needs", err)
	}
	return err
}
