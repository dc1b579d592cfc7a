package pve

import "encoding/json"

// Envelope is the body of every PVE API answer. Success carries Data (and
// Total for paged lists such as task logs); failure carries a null Data, the
// Message (also the HTTP reason phrase, with a trailing newline) and, on
// 400 answers, the per-parameter Errors.
type Envelope struct {
	Data    json.RawMessage   `json:"data"`
	Total   *int              `json:"total,omitempty"`
	Message string            `json:"message,omitempty"`
	Errors  map[string]string `json:"errors,omitempty"`
}

// ParameterVerificationFailed is the message of every 400 answer whose
// Errors name the offending parameters.
const ParameterVerificationFailed = "Parameter verification failed."
