package spec

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Limits that keep the loader bounded on hostile input.
const (
	// MaxInputSize is the largest spec input LoadDocuments accepts.
	MaxInputSize = 8 << 20
	// maxDepth bounds nesting of collections.
	maxDepth = 200
	// maxNodes bounds the number of values produced per input, which also
	// defuses alias bombs ("billion laughs").
	maxNodes = 200000
)

// PyYAML's YAML 1.1 implicit resolvers (SafeLoader). yaml.v3 resolves plain
// scalars by YAML 1.2 rules, where `yes`, `on`, `0o17`, `1_000` and `010`
// mean different things, so the loader resolves plain scalars itself.
var (
	reYAMLBool  = regexp.MustCompile(`^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$`)
	reYAMLFloat = regexp.MustCompile(`^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9_]+(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$`)
	reYAMLInt   = regexp.MustCompile(`^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$`)
	reYAMLNull  = regexp.MustCompile(`^(?:~|null|Null|NULL|)$`)
	reYAMLTime  = regexp.MustCompile(`^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$`)
)

// yamlImplicitTag returns the tag PyYAML's resolver gives a plain scalar:
// "bool", "int", "float", "null", "timestamp", "merge", "value" or "str".
func yamlImplicitTag(s string) string {
	switch {
	case reYAMLNull.MatchString(s):
		return "null"
	case reYAMLBool.MatchString(s):
		return "bool"
	case reYAMLInt.MatchString(s):
		return "int"
	case reYAMLFloat.MatchString(s):
		return "float"
	case reYAMLTime.MatchString(s):
		return "timestamp"
	case s == "<<":
		return "merge"
	case s == "=":
		return "value"
	}
	return "str"
}

// errLoad builds the one-line error for unparsable input.
func errLoad(format string, a ...any) error {
	return &ValidationError{Kind: "YAMLError", Msg: fmt.Sprintf(format, a...)}
}

// parseYAMLStream decodes a YAML stream into one Python value per document,
// with PyYAML safe_load semantics. Empty documents yield nil.
func parseYAMLStream(data []byte) ([]any, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	b := &yamlBuilder{}
	var docs []any
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, errLoad("Invalid YAML: %s", strings.TrimPrefix(err.Error(), "yaml: "))
		}
		v, err := b.value(&n, 0)
		if err != nil {
			return nil, err
		}
		docs = append(docs, v)
	}
	return docs, nil
}

type yamlBuilder struct{ nodes int }

func (b *yamlBuilder) value(n *yaml.Node, depth int) (any, error) {
	b.nodes++
	if b.nodes > maxNodes {
		return nil, errLoad("Invalid YAML: document is too large or contains excessive aliasing")
	}
	if depth > maxDepth {
		return nil, errLoad("Invalid YAML: nesting deeper than %d levels", maxDepth)
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return b.value(n.Content[0], depth)
	case yaml.AliasNode:
		if n.Alias == nil {
			return nil, errLoad("Invalid YAML: unknown alias")
		}
		return b.value(n.Alias, depth+1)
	case yaml.ScalarNode:
		return b.scalar(n)
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := b.value(c, depth+1)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case yaml.MappingNode:
		return b.mapping(n, depth)
	}
	return nil, errLoad("Invalid YAML: unexpected node at line %d", n.Line)
}

func (b *yamlBuilder) mapping(n *yaml.Node, depth int) (any, error) {
	m := NewMap()
	var merged []*Map
	for i := 0; i+1 < len(n.Content); i += 2 {
		kn, vn := n.Content[i], n.Content[i+1]
		if kn.Kind == yaml.ScalarNode && kn.Style&(yaml.SingleQuotedStyle|yaml.DoubleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle|yaml.TaggedStyle) == 0 && kn.Value == "<<" {
			v, err := b.value(vn, depth+1)
			if err != nil {
				return nil, err
			}
			switch x := v.(type) {
			case *Map:
				merged = append(merged, x)
			case []any:
				for _, e := range x {
					em, ok := e.(*Map)
					if !ok {
						return nil, errLoad("Invalid YAML: expected a mapping for merging, but found %s (line %d)", pyTypeName(e), vn.Line)
					}
					merged = append(merged, em)
				}
			default:
				return nil, errLoad("Invalid YAML: expected a mapping or list of mappings for merging (line %d)", vn.Line)
			}
			continue
		}
		k, err := b.value(kn, depth+1)
		if err != nil {
			return nil, err
		}
		switch k.(type) {
		case *Map, []any:
			return nil, errLoad("Invalid YAML: found unhashable key (line %d)", kn.Line)
		}
		if f, ok := k.(float64); ok && math.IsNaN(f) {
			return nil, errLoad("Invalid YAML: NaN is not a valid key (line %d)", kn.Line)
		}
		v, err := b.value(vn, depth+1)
		if err != nil {
			return nil, err
		}
		m.Set(k, v)
	}
	if len(merged) == 0 {
		return m, nil
	}
	// PyYAML's flatten_mapping: merged pairs come first, explicit keys win.
	out := NewMap()
	for _, mm := range merged {
		mm.Each(func(k, v any) {
			if !out.Has(k) {
				out.Set(k, v)
			}
		})
	}
	m.Each(func(k, v any) { out.Set(k, v) })
	return out, nil
}

func (b *yamlBuilder) scalar(n *yaml.Node) (any, error) {
	tag := ""
	switch {
	case n.Style&yaml.TaggedStyle != 0:
		switch n.Tag {
		case "!!str", "!!binary":
			if n.Tag == "!!binary" {
				return nil, errLoad("Invalid YAML: binary values are not supported (line %d)", n.Line)
			}
			tag = "str"
		case "!!int", "!!float", "!!bool", "!!null", "!!timestamp":
			tag = strings.TrimPrefix(n.Tag, "!!")
		default:
			return nil, errLoad("Invalid YAML: could not determine a constructor for the tag %s (line %d)", n.Tag, n.Line)
		}
	case n.Style&(yaml.SingleQuotedStyle|yaml.DoubleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) != 0:
		tag = "str"
	default:
		tag = yamlImplicitTag(n.Value)
	}
	s := n.Value
	switch tag {
	case "str", "timestamp":
		// Timestamps stay strings: they would only reach cephadm as
		// datetime objects that its JSON output cannot carry either.
		return s, nil
	case "null":
		return nil, nil
	case "bool":
		switch strings.ToLower(s) {
		case "yes", "true", "on":
			return true, nil
		case "no", "false", "off":
			return false, nil
		}
	case "int":
		v, err := yamlInt(s)
		if err != nil {
			return nil, errLoad("Invalid YAML: %s (line %d)", err, n.Line)
		}
		return v, nil
	case "float":
		v, err := yamlFloat(s)
		if err != nil {
			return nil, errLoad("Invalid YAML: %s (line %d)", err, n.Line)
		}
		return v, nil
	case "merge":
		return nil, errLoad("Invalid YAML: unexpected merge key (line %d)", n.Line)
	case "value":
		return nil, errLoad("Invalid YAML: could not determine a constructor for the tag 'tag:yaml.org,2002:value' (line %d)", n.Line)
	}
	return nil, errLoad("Invalid YAML: cannot construct %s from %q (line %d)", tag, s, n.Line)
}

// yamlInt is PyYAML's construct_yaml_int.
func yamlInt(s string) (int64, error) {
	v := strings.ReplaceAll(s, "_", "")
	sign := int64(1)
	if strings.HasPrefix(v, "-") {
		sign = -1
	}
	if v != "" && (v[0] == '-' || v[0] == '+') {
		v = v[1:]
	}
	var bi big.Int
	var ok bool
	switch {
	case v == "0":
		return 0, nil
	case strings.HasPrefix(v, "0b"):
		_, ok = bi.SetString(v[2:], 2)
	case strings.HasPrefix(v, "0x"):
		_, ok = bi.SetString(v[2:], 16)
	case strings.HasPrefix(v, "0"):
		_, ok = bi.SetString(v[1:], 8)
	case strings.Contains(v, ":"):
		acc := new(big.Int)
		for _, part := range strings.Split(v, ":") {
			d, err := strconv.ParseInt(part, 10, 64)
			if err != nil {
				return 0, fmt.Errorf("invalid integer %q", s)
			}
			acc.Mul(acc, big.NewInt(60))
			acc.Add(acc, big.NewInt(d))
		}
		bi.Set(acc)
		ok = true
	default:
		_, ok = bi.SetString(v, 10)
	}
	if !ok {
		return 0, fmt.Errorf("invalid integer %q", s)
	}
	if sign < 0 {
		bi.Neg(&bi)
	}
	if !bi.IsInt64() {
		return 0, fmt.Errorf("integer %s is out of range", s)
	}
	return bi.Int64(), nil
}

// yamlFloat is PyYAML's construct_yaml_float. Non-finite values are
// refused: they cannot be written back as JSON.
func yamlFloat(s string) (float64, error) {
	v := strings.ToLower(strings.ReplaceAll(s, "_", ""))
	sign := 1.0
	if strings.HasPrefix(v, "-") {
		sign = -1
	}
	if v != "" && (v[0] == '-' || v[0] == '+') {
		v = v[1:]
	}
	if v == ".inf" || v == ".nan" {
		return 0, fmt.Errorf("non-finite number %q is not supported", s)
	}
	if strings.Contains(v, ":") {
		parts := strings.Split(v, ":")
		acc := 0.0
		for _, p := range parts {
			d, err := strconv.ParseFloat(p, 64)
			if err != nil {
				return 0, fmt.Errorf("invalid float %q", s)
			}
			acc = acc*60 + d
		}
		return sign * acc, nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsInf(f, 0) {
		return 0, fmt.Errorf("invalid float %q", s)
	}
	return sign * f, nil
}
