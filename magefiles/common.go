//go:build mage

// infra builds golden VM images and a Talos Kubernetes cluster on Proxmox VE from one inventory, homelab.yaml.
// Run a target with: go run mage.go <target> [args] [-flag=value]; go run mage.go -h <target> explains one; docs/reference/targets.md lists all.
package main

import (
	"log/slog"
	"os"

	"github.com/magefile/mage/mg"

	"github.com/wdiazux/infra/lib/inventory"
	"github.com/wdiazux/infra/lib/netx"
)

// logger writes progress to stderr; -v (or MAGEFILE_VERBOSE=1) adds debug logs.
func logger() *slog.Logger {
	level := slog.LevelInfo
	if mg.Verbose() {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
}

// netTimeouts are the network time limits, changed by $INFRA_NET_TIMEOUTS.
func netTimeouts() (netx.Timeouts, error) {
	return netx.TimeoutsFromEnv(os.Getenv)
}

// loadInventory loads the inventory a target works on: the -file option
// when given, else $INFRA_INVENTORY, else homelab.yaml. It returns the
// file's path even when loading fails, for the target's messages and for
// files kept next to the inventory. Every target that reads the inventory
// starts with it.
func loadInventory(file *string) (path string, inv *inventory.Inventory, err error) {
	path = value(file)
	if path == "" {
		path = inventory.FileFromEnv()
	}
	inv, err = inventory.Load(path)
	return path, inv, err
}

// flagOrEnv is true when the flag is set, or when the flag is absent and the
// environment variable is "1" or "true".
func flagOrEnv(flag *bool, env string) bool {
	if flag != nil {
		return *flag
	}
	v := os.Getenv(env)
	return v == "1" || v == "true"
}

// isSet is a boolean flag's value, false when absent.
func isSet(flag *bool) bool { return flag != nil && *flag }

// value is a string flag's value, "" when absent.
func value(flag *string) string {
	if flag == nil {
		return ""
	}
	return *flag
}
