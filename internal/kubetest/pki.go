package kubetest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// pki are the files kube-apiserver's TLS, token authentication and
// service-account tokens need, made fresh for each server.
type pki struct {
	caPEM       []byte
	servingCert string
	servingKey  string
	clientCA    string
	saKey       string
	saPublic    string
	tokenFile   string
	token       string
}

// newPKI writes a CA (or the given one), a serving certificate for
// 127.0.0.1, ::1 and localhost signed by it, the CA as the client CA, a
// service-account key pair and a token file holding one admin token (user
// kubetest-admin, group system:masters) under dir/pki.
func newPKI(dir string, given *clusterCA) (*pki, error) {
	dir = filepath.Join(dir, "pki")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	p := &pki{
		servingCert: filepath.Join(dir, "apiserver.crt"),
		servingKey:  filepath.Join(dir, "apiserver.key"),
		clientCA:    filepath.Join(dir, "client-ca.crt"),
		saKey:       filepath.Join(dir, "sa.key"),
		saPublic:    filepath.Join(dir, "sa.pub"),
		tokenFile:   filepath.Join(dir, "tokens.csv"),
	}
	now := time.Now()
	var (
		ca    *x509.Certificate
		caKey crypto.Signer
		err   error
	)
	if given != nil {
		if ca, caKey, err = given.parse(); err != nil {
			return nil, err
		}
		p.caPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Raw})
	} else if ca, caKey, p.caPEM, err = newCA(now); err != nil {
		return nil, err
	}

	srvKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62)) // a given CA may have issued serial 2
	if err != nil {
		return nil, err
	}
	srvDER, err := x509.CreateCertificate(rand.Reader, &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "kube-apiserver"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		DNSNames:     []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc"},
	}, ca, &srvKey.PublicKey, caKey)
	if err != nil {
		return nil, fmt.Errorf("make the serving certificate: %w", err)
	}
	saKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	if p.token, err = randomToken(); err != nil {
		return nil, err
	}
	files := []struct {
		path string
		data func() ([]byte, error)
	}{
		{p.servingCert, func() ([]byte, error) {
			return append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srvDER}), p.caPEM...), nil
		}},
		{p.servingKey, func() ([]byte, error) { return ecKeyPEM(srvKey) }},
		{p.clientCA, func() ([]byte, error) { return p.caPEM, nil }},
		{p.saKey, func() ([]byte, error) { return ecKeyPEM(saKey) }},
		{p.saPublic, func() ([]byte, error) {
			der, err := x509.MarshalPKIXPublicKey(&saKey.PublicKey)
			return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), err
		}},
		{p.tokenFile, func() ([]byte, error) {
			return []byte(p.token + `,kubetest-admin,kubetest-admin,"system:masters"` + "\n"), nil
		}},
	}
	for _, f := range files {
		b, err := f.data()
		if err != nil {
			return nil, fmt.Errorf("make %s: %w", f.path, err)
		}
		if err := os.WriteFile(f.path, b, 0o600); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// newCA makes a self-signed CA for one server.
func newCA(now time.Time) (*x509.Certificate, crypto.Signer, []byte, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, nil, err
	}
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "kubetest-ca"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("make the CA: %w", err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, nil, nil, err
	}
	return ca, caKey, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), nil
}

// clusterCA is a Kubernetes CA given with WithClusterCA, PEM encoded.
type clusterCA struct{ cert, key []byte }

// parse reads the CA's certificate and its private key (PKCS #8, SEC 1 or
// PKCS #1), and checks that they belong together and that the
// certificate is a CA.
func (c *clusterCA) parse() (*x509.Certificate, crypto.Signer, error) {
	block, _ := pem.Decode(c.cert)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, nil, errors.New("WithClusterCA: the certificate is not a PEM CERTIFICATE block")
	}
	ca, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, nil, fmt.Errorf("WithClusterCA: the certificate: %w", err)
	}
	if !ca.IsCA {
		return nil, nil, fmt.Errorf("WithClusterCA: the certificate of %q is not a CA's (basic constraints)", ca.Subject)
	}
	kb, _ := pem.Decode(c.key)
	if kb == nil {
		return nil, nil, errors.New("WithClusterCA: the key is not PEM")
	}
	var key any
	if key, err = x509.ParsePKCS8PrivateKey(kb.Bytes); err != nil {
		if key, err = x509.ParseECPrivateKey(kb.Bytes); err != nil {
			if key, err = x509.ParsePKCS1PrivateKey(kb.Bytes); err != nil {
				return nil, nil, fmt.Errorf("WithClusterCA: the key (PEM %s) is neither PKCS #8, SEC 1 nor PKCS #1", kb.Type)
			}
		}
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, nil, fmt.Errorf("WithClusterCA: a %T cannot sign", key)
	}
	pub, ok := signer.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(ca.PublicKey) {
		return nil, nil, fmt.Errorf("WithClusterCA: the key is not the one of the certificate of %q", ca.Subject)
	}
	return ca, signer, nil
}

// ecKeyPEM encodes an EC private key as SEC 1 PEM.
func ecKeyPEM(k *ecdsa.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalECPrivateKey(k)
	return pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), err
}
