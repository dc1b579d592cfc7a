package netxtest_test

import (
	"fmt"
	"net"
	"time"

	"github.com/wdiazux/infra/lib/netx/netxtest"
)

// A server that accepts TCP and never speaks: a read waits until its own
// deadline.
func Example() {
	s, err := netxtest.Start(netxtest.AcceptOnly)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()
	conn, err := net.Dial("tcp", s.Addr())
	if err != nil {
		fmt.Println(err)
		return
	}
	defer conn.Close()
	_ = conn.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	_, err = conn.Read(make([]byte, 1))
	fmt.Println(err.(net.Error).Timeout())
	// Output:
	// true
}
