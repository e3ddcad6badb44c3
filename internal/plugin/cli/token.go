package cli

import "time"

// RetryToken is a fresh dr.sdrs.io/retry value. The operator acts on any
// value it has not handled yet, so a timestamp is unique enough and tells
// a person reading the object when the retry was asked for.
func RetryToken(env *Env) string {
	return env.Now().UTC().Format(time.RFC3339Nano)
}
