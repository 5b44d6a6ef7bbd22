package oci

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// manifestFields are the JSON names of the manifest and descriptor fields
// this package reads.
var manifestFields = []string{"schemaVersion", "mediaType", "artifactType", "config", "layers", "subject",
	"annotations", "digest", "size", "urls", "data", "platform", "manifests"}

// maxJSONDepth bounds the nesting of a manifest.
const maxJSONDepth = 32

// checkKeys refuses JSON that Go's decoder would read differently from
// other parsers: an object with two keys equal under case folding (Go
// takes the last, others the first or an error), a key that is a field
// name in another case (Go matches it, others do not), nesting deeper than
// maxJSONDepth. It does not check anything else; json.Decode does.
func checkKeys(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var stack []*jsonFrame
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		var top *jsonFrame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if top != nil && top.object && top.key {
			k, ok := tok.(string)
			if !ok { // the end of the object
				stack = stack[:len(stack)-1]
				markValue(stack)
				continue
			}
			folded := strings.ToLower(k)
			if top.keys[folded] {
				return fmt.Errorf("duplicate key %s", quote(k))
			}
			top.keys[folded] = true
			for _, f := range manifestFields {
				if strings.EqualFold(k, f) && k != f {
					return fmt.Errorf("key %s: want %s", quote(k), f)
				}
			}
			top.key = false
			continue
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &jsonFrame{object: true, keys: map[string]bool{}, key: true})
		case json.Delim('['):
			stack = append(stack, &jsonFrame{})
		case json.Delim(']'):
			stack = stack[:len(stack)-1]
			markValue(stack)
		default:
			markValue(stack)
		}
		if len(stack) > maxJSONDepth {
			return errors.New("nested too deeply")
		}
	}
}

// jsonFrame is an object or array being read by checkKeys.
type jsonFrame struct {
	object bool
	keys   map[string]bool
	key    bool // the next token in the object is a key
}

// markValue records that a value ended in the innermost frame: in an
// object, the next token is a key.
func markValue(stack []*jsonFrame) {
	if len(stack) > 0 && stack[len(stack)-1].object {
		stack[len(stack)-1].key = true
	}
}
