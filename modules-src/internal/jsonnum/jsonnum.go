// Package jsonnum decodes JSON without rounding integers. encoding/json
// makes every number a float64, which loses digits past 2^53, and device IDs
// such as Compute Engine instance IDs are that long.
package jsonnum

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"strconv"
)

// Decode parses JSON into maps, slices, strings, bools and numbers: integers
// (also "3.0") become int64, other numbers float64, and integers too large
// for int64 stay json.Number so that they are written back digit for digit.
func Decode(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("data after the JSON value")
	}
	return Numbers(v), nil
}

// Unmarshal is json.Unmarshal with Decode's numbers for the generic targets
// (*any, *map[string]any, *[]any, *[]map[string]any); other targets are
// decoded by encoding/json as usual.
func Unmarshal(data []byte, out any) error {
	switch o := out.(type) {
	case *any, *map[string]any, *[]any, *[]map[string]any:
		v, err := Decode(data)
		if err != nil {
			return json.Unmarshal(data, out) // for encoding/json's error text
		}
		switch o := o.(type) {
		case *any:
			*o = v
		case *map[string]any:
			m, ok := v.(map[string]any)
			if !ok && v != nil {
				return json.Unmarshal(data, out)
			}
			*o = m
		case *[]any:
			l, ok := v.([]any)
			if !ok && v != nil {
				return json.Unmarshal(data, out)
			}
			*o = l
		case *[]map[string]any:
			l, ok := v.([]any)
			if !ok && v != nil {
				return json.Unmarshal(data, out)
			}
			items := make([]map[string]any, 0, len(l))
			for _, it := range l {
				m, ok := it.(map[string]any)
				if !ok && it != nil {
					return json.Unmarshal(data, out)
				}
				items = append(items, m)
			}
			*o = items
		}
		return nil
	}
	return json.Unmarshal(data, out)
}

// Numbers replaces the json.Number values of a decoded tree as Decode does.
func Numbers(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := strconv.ParseInt(string(x), 10, 64); err == nil {
			return i
		}
		f, err := x.Float64()
		if err != nil {
			return x
		}
		if f == math.Trunc(f) && math.Abs(f) < 1<<53 {
			return int64(f)
		}
		if f == math.Trunc(f) {
			return x // an integer past int64: keep its digits
		}
		return f
	case map[string]any:
		for k, val := range x {
			x[k] = Numbers(val)
		}
		return x
	case []any:
		for i, val := range x {
			x[i] = Numbers(val)
		}
		return x
	}
	return v
}
