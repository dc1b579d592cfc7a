package netx_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/wdiazux/infra/lib/netx"
	"github.com/wdiazux/infra/lib/netx/netxtest"
)

// A client with a short TLS limit against a port that accepts TCP and
// never answers: the error names the host, the phase and the limit.
func Example() {
	s, err := netxtest.Start(netxtest.AcceptOnly)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()
	client := netx.NewClient(netx.Timeouts{TLSHandshake: 100 * time.Millisecond})
	_, err = client.Get(s.URL() + "/api2/json/version")
	var pe *netx.PhaseError
	if errors.As(err, &pe) {
		fmt.Println(pe.Phase, pe.Limit, pe.After, pe.Silent)
	}
	// Output:
	// tls-handshake tls-handshake 100ms true
}
