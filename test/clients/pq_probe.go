// pq_probe: Grafana's Go driver for PostgreSQL (github.com/lib/pq, which Grafana's PostgreSQL
// data source used through version 12), driven as Grafana drives it: database/sql over a
// key=value connection string with sslmode=require, one simple-protocol query per statement
// (db.Query with no arguments), column types from rows.ColumnTypes(), every value scanned.
//
// Input on stdin: {"conn": "host=... sslmode=require", "queries": ["SELECT ...", ...]}.
// Output: one JSON line per query: its columns (name, DatabaseTypeName), row count and the
// first row's values as text, or the error with its SQLSTATE.
package main

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/lib/pq"
)

type request struct {
	Conn    string   `json:"conn"`
	Queries []string `json:"queries"`
}

type result struct {
	Index    int         `json:"index"`
	Columns  [][2]string `json:"columns,omitempty"`
	Rows     int         `json:"rows"`
	First    []*string   `json:"first,omitempty"`
	Code     string      `json:"code,omitempty"`
	Error    string      `json:"error,omitempty"`
	Elapsed  float64     `json:"ms"`
}

func text(v interface{}) *string {
	var s string
	switch x := v.(type) {
	case nil:
		return nil
	case []byte:
		s = string(x)
	case time.Time:
		s = x.UTC().Format(time.RFC3339Nano)
	default:
		s = fmt.Sprint(x)
	}
	return &s
}

func run(db *sql.DB, i int, q string) result {
	start := time.Now()
	r := result{Index: i}
	rows, err := db.Query(q)
	if err == nil {
		defer rows.Close()
		types, terr := rows.ColumnTypes()
		if terr != nil {
			err = terr
		} else {
			for _, t := range types {
				r.Columns = append(r.Columns, [2]string{t.Name(), t.DatabaseTypeName()})
			}
			values := make([]interface{}, len(types))
			ptrs := make([]interface{}, len(types))
			for k := range values {
				ptrs[k] = &values[k]
			}
			for rows.Next() {
				if err = rows.Scan(ptrs...); err != nil {
					break
				}
				if r.Rows == 0 {
					for _, v := range values {
						r.First = append(r.First, text(v))
					}
				}
				r.Rows++
			}
			if err == nil {
				err = rows.Err()
			}
		}
	}
	if err != nil {
		r.Error = err.Error()
		if pqErr, ok := err.(*pq.Error); ok {
			r.Code = string(pqErr.Code)
		}
	}
	r.Elapsed = float64(time.Since(start).Microseconds()) / 1000
	return r
}

func main() {
	var req request
	if err := json.NewDecoder(os.Stdin).Decode(&req); err != nil {
		fmt.Fprintln(os.Stderr, "bad request:", err)
		os.Exit(2)
	}
	db, err := sql.Open("postgres", req.Conn)
	if err != nil {
		fmt.Fprintln(os.Stderr, "open:", err)
		os.Exit(1)
	}
	defer db.Close()
	// Grafana's data source pool: one connection is enough to see every statement on one session.
	db.SetMaxOpenConns(1)
	if err := db.Ping(); err != nil {
		fmt.Fprintln(os.Stderr, "ping:", err)
		os.Exit(1)
	}
	out := json.NewEncoder(os.Stdout)
	for i, q := range req.Queries {
		if err := out.Encode(run(db, i, q)); err != nil {
			os.Exit(1)
		}
	}
}
