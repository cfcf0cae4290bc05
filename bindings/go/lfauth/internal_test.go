package lfauth

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestTokenNeverPrintsItsValue(t *testing.T) {
	const secret = "tok_SECRET-value.123~+/="
	tok := &Token{value: []byte(secret)}
	holder := struct {
		Token  *Token
		Direct Token
	}{tok, *tok}
	outputs := []string{
		fmt.Sprint(tok), fmt.Sprintf("%v", tok), fmt.Sprintf("%+v", tok), fmt.Sprintf("%#v", tok),
		fmt.Sprintf("%s", tok), fmt.Sprintf("%q", tok), fmt.Sprintf("%x", tok), fmt.Sprintf("%X", *tok),
		fmt.Sprintf("%v", *tok), fmt.Sprintf("%+v", *tok), fmt.Sprintf("%#v", *tok), fmt.Sprintf("%d", *tok),
		fmt.Sprintf("%v", holder), fmt.Sprintf("%+v", holder), fmt.Sprintf("%#v", holder),
		fmt.Sprintf("%v", []*Token{tok}), fmt.Sprintf("%v", map[string]Token{"a": *tok}),
		tok.String(), tok.GoString(),
	}
	js, err := json.Marshal(holder)
	if err != nil {
		t.Fatal(err)
	}
	outputs = append(outputs, string(js))
	for i, out := range outputs {
		if strings.Contains(out, "SECRET") || strings.Contains(out, fmt.Sprintf("%x", secret)[:16]) {
			t.Errorf("output %d leaks the token: %s", i, out)
		}
		if !strings.Contains(out, "REDACTED") {
			t.Errorf("output %d does not say REDACTED: %s", i, out)
		}
	}
	if got := fmt.Sprintf("%v", tok); got != "lfauth.Token(REDACTED)" {
		t.Errorf("%%v = %q", got)
	}
	if tok.Value() != secret {
		t.Errorf("Value() = %q", tok.Value())
	}
	b := tok.value
	if err := tok.Close(); err != nil {
		t.Fatal(err)
	}
	for _, c := range b {
		if c != 0 {
			t.Fatal("Close did not wipe the token bytes")
		}
	}
	if tok.Value() != "" {
		t.Error("Value after Close is not empty")
	}
	_ = tok.Close() // idempotent
	var nilTok *Token
	if nilTok.Value() != "" || nilTok.Close() != nil {
		t.Error("nil *Token misbehaves")
	}
}

func TestDurationMillis(t *testing.T) {
	cases := []struct {
		d    time.Duration
		want int64
	}{
		{time.Nanosecond, 1}, {time.Millisecond, 1}, {time.Millisecond + 1, 2},
		{1500 * time.Millisecond, 1500}, {1 << 62, 1<<31 - 1},
	}
	for _, c := range cases {
		if got := durationMillis(c.d); got != c.want {
			t.Errorf("durationMillis(%v) = %d, want %d", c.d, got, c.want)
		}
	}
}
