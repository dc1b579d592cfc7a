// Package netxtest runs "black hole" servers on loopback for tests of
// network clients: one that accepts TCP and never speaks, one that
// completes TLS and never answers, one that reads a request and never
// answers, and one that starts an answer and stalls its body. A client
// with time limits must give up on each of them, saying where.
package netxtest
