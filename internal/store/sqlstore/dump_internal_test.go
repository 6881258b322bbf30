package sqlstore

import (
	"maps"
	"slices"
	"testing"
)

// TestDumpCoversSchema: export and import copy every column of every table,
// so a migration that adds one must add it to dumpTables too (R2).
func TestDumpCoversSchema(t *testing.T) {
	_, tables, _ := schema(t, sqliteDialect)
	seen := map[string]bool{}
	for _, dt := range dumpTables {
		seen[dt.name] = true
		var cols []string
		for _, c := range dt.cols {
			cols = append(cols, c.name)
		}
		if want := tables[dt.name]; !slices.Equal(cols, want) {
			t.Errorf("dump of %s has columns %v, the schema %v", dt.name, cols, want)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(tables)) {
		if !seen[name] {
			t.Errorf("table %s is not in the dump", name)
		}
	}
}
