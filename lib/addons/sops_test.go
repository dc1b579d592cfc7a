package addons_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/wdiazux/infra/lib/addons"
	"github.com/wdiazux/infra/lib/secrets"
)

func TestApplySOPSAgeSecret(t *testing.T) {
	ctx := context.Background()
	first, err := age.GenerateX25519Identity()
	require.NoError(t, err)
	second, err := age.GenerateX25519Identity()
	require.NoError(t, err)

	t.Run("creates the Secret from the operator's key file, then updates it", func(t *testing.T) {
		keyFile := filepath.Join(t.TempDir(), "keys.txt")
		require.NoError(t, os.WriteFile(keyFile, []byte("# created: now\n"+first.String()+"\n"), 0o600))
		t.Setenv(secrets.EnvAgeKey, "")
		t.Setenv(secrets.EnvAgeKeyFile, keyFile)
		client := fake.NewClientset()

		require.NoError(t, addons.ApplySOPSAgeSecret(ctx, client, "flux-system"))
		s, err := client.CoreV1().Secrets("flux-system").Get(ctx, addons.SOPSSecretName, metav1.GetOptions{})
		require.NoError(t, err)
		require.Equal(t, corev1.SecretTypeOpaque, s.Type)
		require.Equal(t, first.String()+"\n", string(s.Data[addons.SOPSAgeKey]))
		_, err = client.CoreV1().Namespaces().Get(ctx, "flux-system", metav1.GetOptions{})
		require.NoError(t, err, "the namespace is created when missing")

		// A new key replaces the old one in place.
		t.Setenv(secrets.EnvAgeKey, second.String())
		require.NoError(t, addons.ApplySOPSAgeSecret(ctx, client, "flux-system"))
		s, err = client.CoreV1().Secrets("flux-system").Get(ctx, addons.SOPSSecretName, metav1.GetOptions{})
		require.NoError(t, err)
		require.Equal(t, second.String()+"\n", string(s.Data[addons.SOPSAgeKey]))
	})

	t.Run("identities given by the caller", func(t *testing.T) {
		client := fake.NewClientset()
		require.NoError(t, addons.ApplySOPSAgeSecret(ctx, client, "gitops", addons.WithAgeIdentities(first, second)))
		s, err := client.CoreV1().Secrets("gitops").Get(ctx, addons.SOPSSecretName, metav1.GetOptions{})
		require.NoError(t, err)
		require.Equal(t, first.String()+"\n"+second.String()+"\n", string(s.Data[addons.SOPSAgeKey]))
	})

	t.Run("no key: the error says where it looked, and nothing is applied", func(t *testing.T) {
		t.Setenv(secrets.EnvAgeKey, "")
		t.Setenv(secrets.EnvAgeKeyFile, filepath.Join(t.TempDir(), "missing.txt"))
		client := fake.NewClientset()
		err := addons.ApplySOPSAgeSecret(ctx, client, "flux-system")
		require.ErrorIs(t, err, secrets.ErrNoKey)
		require.ErrorContains(t, err, "missing.txt")
		require.Empty(t, client.Actions())
	})

	t.Run("an API failure names the call and never holds the key", func(t *testing.T) {
		client := fake.NewClientset()
		client.PrependReactor("patch", "secrets", func(k8stesting.Action) (bool, runtime.Object, error) {
			return true, nil, errors.New("connection refused")
		})
		err := addons.ApplySOPSAgeSecret(ctx, client, "flux-system", addons.WithAgeIdentities(first))
		require.ErrorContains(t, err, "apply Secret flux-system/sops-age: connection refused")
		require.False(t, strings.Contains(err.Error(), "AGE-SECRET-KEY"), "the error must not hold the key")
	})
}

func TestEnsureWebhookToken(t *testing.T) {
	ctx := context.Background()
	client := fake.NewClientset()
	created, err := addons.EnsureWebhookToken(ctx, client, "flux-system")
	require.NoError(t, err)
	require.True(t, created)
	s, err := client.CoreV1().Secrets("flux-system").Get(ctx, addons.WebhookTokenSecret, metav1.GetOptions{})
	require.NoError(t, err)
	token := string(s.Data["token"])
	require.Len(t, token, 64)

	// An existing token is kept: the forge is configured with it.
	created, err = addons.EnsureWebhookToken(ctx, client, "flux-system")
	require.NoError(t, err)
	require.False(t, created)
	s, err = client.CoreV1().Secrets("flux-system").Get(ctx, addons.WebhookTokenSecret, metav1.GetOptions{})
	require.NoError(t, err)
	require.Equal(t, token, string(s.Data["token"]))

	// The Receiver of flux2-config names this Secret.
	recv := manifestObjects(t, byName(releases(t, loadHomelab(t)))["flux2-config"]).must(t, "Receiver/github")
	require.Equal(t, addons.WebhookTokenSecret, get(recv, "spec", "secretRef", "name"))
}
