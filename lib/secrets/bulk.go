package secrets

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
)

// KeyUpdate is the outcome of re-keying one file.
type KeyUpdate struct {
	// Path is the file, relative to the root.
	Path string
	// Changed says whether its recipients changed (or would, in a dry run).
	Changed bool
	// Added and Removed are the age recipients it gained and lost. A
	// removed recipient has seen the file's data key: rotate it (Rotate).
	Added, Removed []string
	// Err is why the file could not be re-keyed, if it could not.
	Err error
}

// UpdateAllKeys re-keys every SOPS file of the repository at root (the
// files Check reads) to the recipients its creation rule lists now. A file
// that fails does not stop the others; the error joins every failure.
func UpdateAllKeys(ctx context.Context, root string, opts ...Option) ([]KeyUpdate, error) {
	o := newOptions(opts)
	rep, err := Check(ctx, root, append(opts, WithLogger(o.log))...)
	if err != nil {
		return nil, err
	}
	var out []KeyUpdate
	var failed []error
	for _, rel := range rep.Encrypted {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		if _, err := storeFor(rel); err != nil {
			continue // a SOPS dotenv or INI file: not handled here
		}
		u, err := o.updateKeys(filepath.Join(root, filepath.FromSlash(rel)))
		u.Path, u.Err = rel, err
		out = append(out, u)
		if err != nil {
			failed = append(failed, err)
		}
		o.log.Info("updatekeys", "file", rel, "changed", u.Changed, "err", err)
	}
	if len(failed) > 0 {
		return out, fmt.Errorf("%d of %d encrypted files could not be re-keyed: %w", len(failed), len(out), errors.Join(failed...))
	}
	return out, nil
}
