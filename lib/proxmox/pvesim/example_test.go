package pvesim_test

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"

	"github.com/wdiazux/infra/lib/proxmox/pvesim"
)

// Start a simulated host and call its API over HTTPS with its token,
// trusting its self-signed certificate.
func ExampleNew() {
	sim, err := pvesim.New()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer sim.Close()

	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(sim.CACertPEM())
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	id, secret := sim.Token()

	for _, path := range []string{"/version", "/nodes/pve/lxc"} {
		req, _ := http.NewRequest("GET", sim.URL()+path, nil)
		req.Header.Set("Authorization", "PVEAPIToken="+id+"="+secret)
		resp, err := client.Do(req)
		if err != nil {
			fmt.Println(err)
			return
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Println(resp.Status)
		fmt.Println(string(body))
	}
	// Output:
	// 200 OK
	// {"data":{"release":"9.0","repoid":"5e1f3f9a2b0c7d41","version":"9.0.3"}}
	// 501 Method 'GET /nodes/pve/lxc' not implemented
	// {"data":null,"message":"Method 'GET /nodes/pve/lxc' not implemented\n"}
}
