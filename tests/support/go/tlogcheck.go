// tlogcheck checks Ketenpoort audit checkpoints and proofs with Go's own packages
// (golang.org/x/mod/sumdb/note and golang.org/x/mod/sumdb/tlog), not with the
// gateway's code. It reads one JSON object on stdin:
//
//	{"vkey": "<verifier key>", "checkpoint": "<signed note>",
//	 "records": ["<base64 of the canonical public part>", ...],       // optional
//	 "inclusion": {"index": n, "record": "<base64>", "proof": [...]}, // optional
//	 "consistency": {"old_checkpoint": "<signed note>", "proof": [...]}} // optional
//
// and prints one line per check passed; any failure is printed to stderr with exit 1.
// Build in GOPATH mode (GO111MODULE=off GOPATH=/usr/share/gocode): Debian's
// golang-golang-x-mod-dev puts golang.org/x/mod there.
package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

type input struct {
	VKey       string   `json:"vkey"`
	Checkpoint string   `json:"checkpoint"`
	Records    []string `json:"records"`
	Inclusion  *struct {
		Index  int64    `json:"index"`
		Record string   `json:"record"`
		Proof  []string `json:"proof"`
	} `json:"inclusion"`
	Consistency *struct {
		OldCheckpoint string   `json:"old_checkpoint"`
		Proof         []string `json:"proof"`
	} `json:"consistency"`
}

type tree struct {
	origin string
	size   int64
	root   tlog.Hash
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "tlogcheck: "+format+"\n", args...)
	os.Exit(1)
}

// open checks the note's signature with the verifier key and parses its body as a
// C2SP tlog-checkpoint (origin, size, base64 root, extension lines). tlog.ParseTree in
// this version expects the older "go.sum database tree" header, so the body is read here.
func open(msg string, verifiers note.Verifiers) tree {
	n, err := note.Open([]byte(msg), verifiers)
	if err != nil {
		fail("note.Open: %v", err)
	}
	lines := strings.Split(strings.TrimSuffix(n.Text, "\n"), "\n")
	if len(lines) < 3 {
		fail("checkpoint body has %d lines", len(lines))
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || size < 0 || strconv.FormatInt(size, 10) != lines[1] {
		fail("checkpoint size %q", lines[1])
	}
	root, err := tlog.ParseHash(lines[2])
	if err != nil {
		fail("checkpoint root %q: %v", lines[2], err)
	}
	return tree{lines[0], size, root}
}

func hashes(list []string) []tlog.Hash {
	out := make([]tlog.Hash, len(list))
	for i, s := range list {
		h, err := tlog.ParseHash(s)
		if err != nil {
			fail("proof hash %d: %v", i, err)
		}
		out[i] = h
	}
	return out
}

func decode(s string) []byte {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		fail("base64: %v", err)
	}
	return b
}

func main() {
	var in input
	if err := json.NewDecoder(os.Stdin).Decode(&in); err != nil {
		fail("input: %v", err)
	}
	v, err := note.NewVerifier(in.VKey)
	if err != nil {
		fail("note.NewVerifier: %v", err)
	}
	verifiers := note.VerifierList(v)
	t := open(in.Checkpoint, verifiers)
	fmt.Printf("note signature ok: %s size %d\n", t.origin, t.size)

	if in.Records != nil {
		// The tree from the records themselves: RecordHash is SHA-256(0x00 || data).
		var stored []tlog.Hash
		reader := tlog.HashReaderFunc(func(indexes []int64) ([]tlog.Hash, error) {
			out := make([]tlog.Hash, len(indexes))
			for i, x := range indexes {
				out[i] = stored[x]
			}
			return out, nil
		})
		for i, r := range in.Records {
			more, err := tlog.StoredHashes(int64(i), decode(r), reader)
			if err != nil {
				fail("StoredHashes %d: %v", i, err)
			}
			stored = append(stored, more...)
		}
		if int64(len(in.Records)) < t.size {
			fail("%d records for a tree of %d", len(in.Records), t.size)
		}
		root, err := tlog.TreeHash(t.size, reader)
		if err != nil {
			fail("TreeHash: %v", err)
		}
		if root != t.root {
			fail("TreeHash of the records %v is not the signed root %v", root, t.root)
		}
		fmt.Printf("tree hash ok: %d records\n", t.size)
	}
	if in.Inclusion != nil {
		leaf := tlog.RecordHash(decode(in.Inclusion.Record))
		proof := tlog.RecordProof(hashes(in.Inclusion.Proof))
		if err := tlog.CheckRecord(proof, t.size, t.root, in.Inclusion.Index, leaf); err != nil {
			fail("CheckRecord %d in %d: %v", in.Inclusion.Index, t.size, err)
		}
		fmt.Printf("inclusion ok: record %d in %d\n", in.Inclusion.Index, t.size)
	}
	if in.Consistency != nil {
		old := open(in.Consistency.OldCheckpoint, verifiers)
		if old.origin != t.origin {
			fail("origins differ: %s and %s", old.origin, t.origin)
		}
		proof := tlog.TreeProof(hashes(in.Consistency.Proof))
		if err := tlog.CheckTree(proof, t.size, t.root, old.size, old.root); err != nil {
			fail("CheckTree %d to %d: %v", old.size, t.size, err)
		}
		fmt.Printf("consistency ok: %d to %d\n", old.size, t.size)
	}
}
