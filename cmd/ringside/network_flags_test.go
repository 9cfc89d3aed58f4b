package main

import (
	"flag"
	"slices"
	"testing"
)

func TestNetworkFlagValues(t *testing.T) {
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	var urls []string
	var selfSigned bool
	fs.Var((*listFlag)(&urls), "turn-url", "")
	fs.Var((*tlsFlag)(&selfSigned), "tls", "")
	e, _, _ := testEnv(map[string]string{"RINGSIDE_TURN_URL": " turn:a:3478?transport=udp, turns:a:443?transport=tcp ,"})
	if _, ok := parse(fs, []string{"--tls", "self-signed"}, e); !ok {
		t.Fatal("parse failed")
	}
	if !selfSigned || !slices.Equal(urls, []string{"turn:a:3478?transport=udp", "turns:a:443?transport=tcp"}) {
		t.Errorf("tls %v, urls %q", selfSigned, urls)
	}
	if err := (*tlsFlag)(&selfSigned).Set("off"); err != nil || selfSigned {
		t.Errorf("--tls off: %v %v", selfSigned, err)
	}
	if err := (*tlsFlag)(&selfSigned).Set("yes"); err == nil {
		t.Error("--tls yes accepted")
	}
}
