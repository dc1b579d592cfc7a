package addons

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"filippo.io/age"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	applycorev1 "k8s.io/client-go/applyconfigurations/core/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/wdiazux/infra/lib/secrets"
)

// SOPSAgeKey is the data key of the age identities in the sops-age Secret;
// Flux's kustomize-controller reads the keys ending in .agekey.
const SOPSAgeKey = "age.agekey"

// FieldManager is the server-side apply field manager of the objects this
// package applies.
const FieldManager = "infra-addons"

// ErrNoAgeIdentity is returned when there is no age identity Flux can use.
var ErrNoAgeIdentity = errors.New("no age identity for Flux")

// SecretOption changes ApplySOPSAgeSecret.
type SecretOption func(*secretOptions)

type secretOptions struct {
	ids []age.Identity
}

// WithAgeIdentities gives the identities to put in the Secret instead of
// the operator's (secrets.LoadIdentities).
func WithAgeIdentities(ids ...age.Identity) SecretOption {
	return func(o *secretOptions) { o.ids = ids }
}

// ApplySOPSAgeSecret creates or updates the Secret namespace/sops-age that
// Flux decrypts SOPS files with, holding the operator's age identities
// (found as lib/secrets finds them: SOPS_AGE_KEY, the file
// SOPS_AGE_KEY_FILE names, else the default key file) under SOPSAgeKey. It
// goes through the API only (server-side apply, creating the namespace when
// missing): the key is never written to disk, logged, or put in an error.
// namespace is the flux2 chart's namespace (kubernetes.charts.flux2.namespace).
func ApplySOPSAgeSecret(ctx context.Context, client kubernetes.Interface, namespace string, opts ...SecretOption) error {
	var o secretOptions
	for _, opt := range opts {
		opt(&o)
	}
	ids := o.ids
	if ids == nil {
		var err error
		if ids, err = secrets.LoadIdentities(); err != nil {
			//lint:ignore ST1005 "Secret" is the Kubernetes kind, a proper noun, as kubectl names it
			return fmt.Errorf("Secret %s/%s: the operator's age key: %w", namespace, SOPSSecretName, err)
		}
	}
	var keys []string
	for i, id := range ids {
		switch id := id.(type) {
		case *age.X25519Identity:
			keys = append(keys, id.String())
		case *age.HybridIdentity:
			keys = append(keys, id.String())
		default:
			return fmt.Errorf("%w: identity %d is a %T; Flux takes X25519 (AGE-SECRET-KEY-1…) or hybrid identities", ErrNoAgeIdentity, i+1, id)
		}
	}
	if len(keys) == 0 {
		return fmt.Errorf("%w: the key holds no identity; make one with age-keygen", ErrNoAgeIdentity)
	}
	apply := metav1.ApplyOptions{FieldManager: FieldManager, Force: true}
	if _, err := client.CoreV1().Namespaces().Apply(ctx, applycorev1.Namespace(namespace), apply); err != nil {
		return fmt.Errorf("apply Namespace %s: %w", namespace, err)
	}
	secret := applycorev1.Secret(SOPSSecretName, namespace).
		WithType(corev1.SecretTypeOpaque).
		WithLabels(map[string]string{"app.kubernetes.io/managed-by": FieldManager}).
		WithData(map[string][]byte{SOPSAgeKey: []byte(strings.Join(keys, "\n") + "\n")})
	if _, err := client.CoreV1().Secrets(namespace).Apply(ctx, secret, apply); err != nil {
		return fmt.Errorf("apply Secret %s/%s: %w", namespace, SOPSSecretName, err)
	}
	return nil
}

// WebhookTokenSecret is the Secret, in the flux2 chart's namespace, holding
// the token the forge signs its push webhooks with (the Receiver's
// secretRef, data key "token").
const WebhookTokenSecret = "flux-webhook-token"

// EnsureWebhookToken creates the Secret namespace/flux-webhook-token with a
// random token when it does not exist, and keeps an existing one (the forge
// is configured with it). It reports whether it created the Secret. The
// token goes through the API only; read it with kubectl to configure the
// forge's webhook.
func EnsureWebhookToken(ctx context.Context, client kubernetes.Interface, namespace string) (bool, error) {
	return ensureGenerated(ctx, client, namespace, WebhookTokenSecret, func(random string) map[string][]byte {
		return map[string][]byte{"token": []byte(random)}
	})
}

// GrafanaAdminSecret is the Secret, in kube-prometheus-stack's namespace,
// holding Grafana's admin login (the chart's grafana.admin.existingSecret,
// keys admin-user and admin-password).
const GrafanaAdminSecret = "grafana-admin"

// EnsureGrafanaAdmin creates the Secret namespace/grafana-admin with the
// user "admin" and a random password when it does not exist, and keeps an
// existing one (the operator may have changed it). It reports whether it
// created the Secret. The password goes through the API only, never into
// the chart's values or the Helm release.
func EnsureGrafanaAdmin(ctx context.Context, client kubernetes.Interface, namespace string) (bool, error) {
	return ensureGenerated(ctx, client, namespace, GrafanaAdminSecret, func(random string) map[string][]byte {
		return map[string][]byte{"admin-user": []byte("admin"), "admin-password": []byte(random)}
	})
}

// ensureGenerated creates the Secret namespace/name, with the data made
// from 32 random bytes (hex), when it does not exist; an existing one is
// kept. It reports whether it created it.
func ensureGenerated(ctx context.Context, client kubernetes.Interface, namespace, name string, data func(random string) map[string][]byte) (bool, error) {
	_, err := client.CoreV1().Secrets(namespace).Get(ctx, name, metav1.GetOptions{})
	switch {
	case err == nil:
		return false, nil
	case !apierrors.IsNotFound(err):
		return false, fmt.Errorf("get Secret %s/%s: %w", namespace, name, err)
	}
	random := make([]byte, 32)
	if _, err := rand.Read(random); err != nil {
		//lint:ignore ST1005 "Secret" is the Kubernetes kind, a proper noun, as kubectl names it
		return false, fmt.Errorf("Secret %s/%s: random value: %w", namespace, name, err)
	}
	if _, err := client.CoreV1().Namespaces().Apply(ctx, applycorev1.Namespace(namespace), metav1.ApplyOptions{FieldManager: FieldManager, Force: true}); err != nil {
		return false, fmt.Errorf("apply Namespace %s: %w", namespace, err)
	}
	s := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace, Labels: map[string]string{"app.kubernetes.io/managed-by": FieldManager}},
		Type:       corev1.SecretTypeOpaque,
		Data:       data(hex.EncodeToString(random)),
	}
	if _, err := client.CoreV1().Secrets(namespace).Create(ctx, s, metav1.CreateOptions{FieldManager: FieldManager}); err != nil {
		if apierrors.IsAlreadyExists(err) {
			return false, nil
		}
		return false, fmt.Errorf("create Secret %s/%s: %w", namespace, name, err)
	}
	return true, nil
}
