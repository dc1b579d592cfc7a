package kubetest_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/wdiazux/infra/internal/kubetest"
)

// testCA is a CA made for a test: its certificate and key in PEM, and
// what signs with them.
type testCA struct {
	cert    *x509.Certificate
	key     *ecdsa.PrivateKey
	certPEM []byte
	keyPEM  []byte
}

func newTestCA(t *testing.T, name string) testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature, BasicConstraintsValid: true, IsCA: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	return testCA{cert: cert, key: key,
		certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		keyPEM:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})}
}

// client signs a client certificate for user cn in groups with the CA, as
// Talos signs the admin kubeconfig's (O=system:masters).
func (ca testCA) client(t *testing.T, cn string, groups ...string) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	der, err := x509.CreateCertificate(rand.Reader, &x509.Certificate{SerialNumber: big.NewInt(7),
		Subject: pkix.Name{CommonName: cn, Organization: groups}, NotBefore: time.Now().Add(-time.Minute), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}, ca.cert, &key.PublicKey, ca.key)
	require.NoError(t, err)
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
}

// TestClusterCA: with WithClusterCA the server is the cluster's: a client
// that trusts only that CA verifies the server, a client certificate the
// CA signs authenticates as its subject (O=system:masters an admin, another
// group only authenticated), one another CA signs is refused with 401, and
// the admin token still works.
func TestClusterCA(t *testing.T) {
	kube.Server(t) // skips or fails as the shared server does when a program is missing
	ca, other := newTestCA(t, "kubernetes"), newTestCA(t, "another cluster")
	srv, err := kubetest.Start(t.Context(), kubetest.WithClusterCA(ca.certPEM, ca.keyPEM))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, srv.Stop()) })
	require.Equal(t, string(ca.certPEM), string(srv.Config().CAData), "the admin's config trusts the given CA")
	ctx := t.Context()

	withCert := func(certPEM, keyPEM []byte) kubernetes.Interface {
		cs, err := kubernetes.NewForConfig(&rest.Config{Host: srv.Config().Host,
			TLSClientConfig: rest.TLSClientConfig{CAData: ca.certPEM, CertData: certPEM, KeyData: keyPEM}})
		require.NoError(t, err)
		return cs
	}
	tests := []struct {
		name       string
		client     kubernetes.Interface
		user       string
		groups     []string
		listErr    func(error) bool
		createsNS  bool
		authorized bool
	}{
		{name: "admin certificate of the CA", client: withCert(ca.client(t, "admin", "system:masters")),
			user: "admin", groups: []string{"system:masters", "system:authenticated"}, createsNS: true},
		{name: "certificate of the CA without a group with rights", client: withCert(ca.client(t, "viewer", "homelab:nobody")),
			user: "viewer", groups: []string{"homelab:nobody", "system:authenticated"}, listErr: apierrors.IsForbidden},
		{name: "admin certificate of another CA", client: withCert(other.client(t, "admin", "system:masters")), listErr: apierrors.IsUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.client.CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
			if tt.listErr != nil {
				require.Error(t, err)
				require.True(t, tt.listErr(err), "got %v", err)
			} else {
				require.NoError(t, err)
			}
			review, err := tt.client.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
			if tt.user == "" {
				require.True(t, apierrors.IsUnauthorized(err), "got %v", err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.user, review.Status.UserInfo.Username)
			require.ElementsMatch(t, tt.groups, review.Status.UserInfo.Groups)
			if tt.createsNS {
				_, err := tt.client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "made-by-the-admin-cert"}}, metav1.CreateOptions{})
				require.NoError(t, err)
			}
		})
	}

	admin, err := srv.Clientset()
	require.NoError(t, err)
	_, err = admin.CoreV1().Namespaces().Get(ctx, "made-by-the-admin-cert", metav1.GetOptions{})
	require.NoError(t, err, "the admin token still works, and sees what the certificate made")
}

// TestClusterCARefusesWhatIsNotACA: a certificate that is not a CA's, or
// a key that is not the certificate's, is refused before anything runs.
func TestClusterCARefusesWhatIsNotACA(t *testing.T) {
	ca, other := newTestCA(t, "kubernetes"), newTestCA(t, "another")
	leaf, leafKey := ca.client(t, "admin", "system:masters")
	tests := []struct {
		name      string
		cert, key []byte
		want      string
	}{
		{"not PEM", []byte("nope"), ca.keyPEM, "WithClusterCA: the certificate is not a PEM CERTIFICATE block"},
		{"not a CA", leaf, leafKey, `WithClusterCA: the certificate of "CN=admin,O=system:masters" is not a CA's`},
		{"another key", ca.certPEM, other.keyPEM, `WithClusterCA: the key is not the one of the certificate of "CN=kubernetes"`},
		{"no key", ca.certPEM, nil, "WithClusterCA: the key is not PEM"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := kubetest.Start(t.Context(), kubetest.WithClusterCA(tt.cert, tt.key),
				kubetest.WithBinaries(kubetest.Binaries{Etcd: "/nonexistent", KubeAPIServer: "/nonexistent"}))
			require.ErrorContains(t, err, tt.want)
			require.NotErrorAs(t, err, new(*kubetest.StartError), "refused before a program starts")
		})
	}
}
