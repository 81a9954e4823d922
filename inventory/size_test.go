package inventory

import (
	"errors"
	"math"
	"strings"
	"testing"
)

func TestParseSizeFilter(t *testing.T) {
	gb := func(v string) SizeBound { return SizeBound{Value: v, Unit: "GB"} }
	tests := []struct {
		in      string
		want    SizeFilter
		wantErr string
	}{
		{in: "20G:50G", want: SizeFilter{Low: gb("20"), High: gb("50")}},
		{in: "20GB:50GB", want: SizeFilter{Low: gb("20"), High: gb("50")}},
		{in: "1TB:", want: SizeFilter{Low: SizeBound{"1", "TB"}}},
		{in: ":50G", want: SizeFilter{High: gb("50")}},
		{in: "20G", want: SizeFilter{Exact: gb("20")}},
		{in: "20.12GB", want: SizeFilter{Exact: gb("20.12")}},
		{in: "20.GB", want: SizeFilter{Exact: gb("20.")}},
		{in: "4K", want: SizeFilter{Exact: SizeBound{"4", "KB"}}},
		// Python's $ matches before a final newline.
		{in: "20G\n", want: SizeFilter{Exact: gb("20")}},
		{in: "20G:\n", want: SizeFilter{Low: gb("20")}},
		// The range forms are not anchored at the end.
		{in: "20G:50Gxyz", want: SizeFilter{Low: gb("20"), High: gb("50")}},
		{in: ":50G:", want: SizeFilter{High: gb("50")}},
		// Python's \d takes any Unicode decimal digit.
		{in: "２０G", want: SizeFilter{Exact: gb("２０")}},
		// Forms that parse to nothing are accepted.
		{in: "wrong"},
		{in: "None"},
		{in: ""},
		{in: "10g:40g"},
		{in: "10.5G:20G"},
		{in: "1.5G:"},
		{in: "10 G"},
		{in: "10P", wantErr: "Unit 'P' not supported"},
		{in: "10PB:", wantErr: "Unit 'PB' not supported"},
		{in: "10G:20GX", wantErr: "Unit 'GX' not supported"},
		{in: ":5EB", wantErr: "Unit 'EB' not supported"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseSizeFilter(tt.in)
			if tt.wantErr != "" {
				var mi *MatchInvalid
				if !errors.As(err, &mi) || mi.Msg != tt.wantErr {
					t.Fatalf("ParseSizeFilter(%q) error = %v, want *MatchInvalid %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseSizeFilter(%q): %v", tt.in, err)
			}
			tt.want.Raw = tt.in
			if got != tt.want {
				t.Errorf("ParseSizeFilter(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
		})
	}
}

func TestSizeFilterMatchBytes(t *testing.T) {
	tests := []struct {
		filter string
		disk   string
		want   bool
	}{
		{"20GB:100GB", "1.00 GB", false},
		{"20GB:100GB", "20.00 GB", true},
		{"20GB:100GB", "100.00 GB", true},
		{"20GB:100GB", "101.00 GB", false},
		{":50GB", "50.00 GB", true},
		{":50GB", "100.00 GB", false},
		{"50GB:", "20.00 GB", false},
		{"50GB:", "1101.00 GB", true},
		{"1TB:", "1101.00 GB", true},
		{"1TB:", "9.10 TB", true},
		{"1TB:", "101.00 GB", false},
		{"20GB", "20.00 GB", true},
		{"10G", "10.0 GB", true},
		{"10G", "10.01 GB", false},
		{"20.12GB", "20.12 GB", true},
		{"500M", "0.50 GB", true},
		{"4K", "4.00 KB", true},
		{"100G:1T", "394.27 GB", true},
		{"1T", "1.0 tb", true},
	}
	for _, tt := range tests {
		t.Run(tt.filter+"/"+tt.disk, func(t *testing.T) {
			f, err := ParseSizeFilter(tt.filter)
			if err != nil {
				t.Fatalf("ParseSizeFilter: %v", err)
			}
			n, err := diskBytes(tt.disk)
			if err != nil {
				t.Fatalf("diskBytes(%q): %v", tt.disk, err)
			}
			got, err := f.MatchBytes(n)
			if err != nil {
				t.Fatalf("MatchBytes: %v", err)
			}
			if got != tt.want {
				t.Errorf("%q matches %q = %t, want %t", tt.filter, tt.disk, got, tt.want)
			}
		})
	}
	t.Run("no bounds", func(t *testing.T) {
		f, err := ParseSizeFilter("wrong")
		if err != nil {
			t.Fatalf("ParseSizeFilter: %v", err)
		}
		_, err = f.MatchBytes(1e9)
		var mi *MatchInvalid
		if !errors.As(err, &mi) || mi.Msg != "No filters applied" {
			t.Errorf("MatchBytes error = %v, want No filters applied", err)
		}
	})
}

func TestSizeHelpers(t *testing.T) {
	t.Run("NormalizeSuffix", func(t *testing.T) {
		for in, want := range map[string]string{
			"G": "GB", "GB": "GB", "TB": "TB", "T": "TB", "MB": "MB", "M": "MB", "k": "KB", "kb": "KB", "gB": "GB",
		} {
			if got, err := NormalizeSuffix(in); err != nil || got != want {
				t.Errorf("NormalizeSuffix(%q) = %q, %v; want %q", in, got, err, want)
			}
		}
		for in, msg := range map[string]string{"P": "Unit 'P' not supported", "gib": "Unit 'GIB' not supported", "": "Unit '' not supported"} {
			if _, err := NormalizeSuffix(in); err == nil || err.Error() != msg {
				t.Errorf("NormalizeSuffix(%q) error = %v, want %q", in, err, msg)
			}
		}
	})
	t.Run("ParseSuffix", func(t *testing.T) {
		for in, want := range map[string]string{
			"10G": "GB", "10g": "GB", "20GB": "GB", "20gb": "GB", "20TB": "TB", "20tb": "TB", "20T": "TB",
			"20t": "TB", "20MB": "MB", "20mb": "MB", "20M": "MB", "20m": "MB", "394.27 GB": "GB",
		} {
			if got, err := ParseSuffix(in); err != nil || got != want {
				t.Errorf("ParseSuffix(%q) = %q, %v; want %q", in, got, err, want)
			}
		}
		var se *SizeSyntaxError
		if _, err := ParseSuffix("123"); !errors.As(err, &se) || se.Missing != "unit" {
			t.Errorf("ParseSuffix(123) error = %v, want a missing unit", err)
		}
	})
	t.Run("GetKV", func(t *testing.T) {
		for in, want := range map[string]SizeBound{
			"10G": {"10", "GB"}, "20GB": {"20", "GB"}, "10g": {"10", "GB"}, "20gb": {"20", "GB"}, "1.5T": {"1.5", "TB"},
		} {
			if got, err := GetKV(in); err != nil || got != want {
				t.Errorf("GetKV(%q) = %+v, %v; want %+v", in, got, err, want)
			}
		}
		var se *SizeSyntaxError
		if _, err := GetKV("GB"); !errors.As(err, &se) || se.Missing != "number" {
			t.Errorf("GetKV(GB) error = %v, want a missing number", err)
		}
	})
	t.Run("ToByte", func(t *testing.T) {
		tests := []struct {
			in   SizeBound
			want float64
		}{
			{SizeBound{"4", "KB"}, 4000},
			{SizeBound{"10", "MB"}, 10 * 1e6},
			{SizeBound{"10", "GB"}, 10 * 1e9},
			{SizeBound{"10", "TB"}, 10 * 1e12},
			{SizeBound{"10", "PB"}, 0},
			{SizeBound{"", "GB"}, 0},
			{SizeBound{"٣", "KB"}, 3000},
		}
		for _, tt := range tests {
			if got := ToByte(tt.in); got != tt.want {
				t.Errorf("ToByte(%+v) = %v, want %v", tt.in, got, tt.want)
			}
		}
		huge := SizeBound{Value: strings.Repeat("9", 400), Unit: "TB"}
		if got := ToByte(huge); !math.IsInf(got, 1) {
			t.Errorf("ToByte(400 nines) = %v, want +Inf as Python's float()", got)
		}
	})
	t.Run("StrToByte", func(t *testing.T) {
		if got, err := StrToByte("5G"); err != nil || got != 5e9 {
			t.Errorf("StrToByte(5G) = %v, %v; want 5e9", got, err)
		}
		if _, err := StrToByte("5X"); err == nil {
			t.Errorf("StrToByte(5X) succeeded, want an error")
		}
	})
}

func TestDigitValue(t *testing.T) {
	tests := []struct {
		r    rune
		want int
	}{
		{'0', 0}, {'7', 7}, {'٣', 3}, {'０', 0}, {'９', 9}, {'𝟎', 0}, {'𝟗', 9}, {'𝟘', 0}, {'𝟡', 9}, {'𝟿', 9},
	}
	for _, tt := range tests {
		t.Run(string(tt.r), func(t *testing.T) {
			if got := digitValue(tt.r); got != tt.want {
				t.Errorf("digitValue(%q) = %d, want %d", tt.r, got, tt.want)
			}
		})
	}
}
