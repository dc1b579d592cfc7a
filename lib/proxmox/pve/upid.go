package pve

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// UPID identifies a PVE task:
//
//	UPID:node:pid:pstart:starttime:type:id:user:
//
// pid, pstart and starttime are hexadecimal; id may be empty; user may be a
// token ("root@pam!ci").
type UPID struct {
	Node      string
	PID       uint32
	PStart    uint64
	StartTime time.Time
	Type      string
	ID        string
	User      string
}

// ParseUPID parses a UPID, returning an error (never panicking) when it is
// malformed.
func ParseUPID(s string) (UPID, error) {
	var u UPID
	rest, ok := strings.CutPrefix(s, "UPID:")
	if !ok || !strings.HasSuffix(rest, ":") {
		return u, fmt.Errorf("unable to parse worker upid '%s'", s)
	}
	f := strings.Split(strings.TrimSuffix(rest, ":"), ":")
	// The user part of a token holds no ':', but a node name never does
	// either; anything but exactly 7 fields is malformed.
	if len(f) != 7 || f[0] == "" || f[4] == "" || f[6] == "" {
		return u, fmt.Errorf("unable to parse worker upid '%s'", s)
	}
	pid, err1 := strconv.ParseUint(f[1], 16, 32)
	pstart, err2 := strconv.ParseUint(f[2], 16, 64)
	start, err3 := strconv.ParseInt(f[3], 16, 64)
	if err1 != nil || err2 != nil || err3 != nil || len(f[1]) != 8 || len(f[2]) < 8 || len(f[3]) != 8 {
		return u, fmt.Errorf("unable to parse worker upid '%s'", s)
	}
	return UPID{Node: f[0], PID: uint32(pid), PStart: pstart, StartTime: time.Unix(start, 0).UTC(),
		Type: f[4], ID: f[5], User: f[6]}, nil
}

// String formats the UPID the way PVE writes it.
func (u UPID) String() string {
	return fmt.Sprintf("UPID:%s:%08X:%08X:%08X:%s:%s:%s:", u.Node, u.PID, u.PStart, u.StartTime.Unix(), u.Type, u.ID, u.User)
}

// Describe names the task for people: "qmcreate:100 on pve".
func (u UPID) Describe() string {
	if u.ID == "" {
		return u.Type + " on " + u.Node
	}
	return u.Type + ":" + u.ID + " on " + u.Node
}
