package domain

import (
	"reflect"
	"testing"
)

func TestProductDiff(t *testing.T) {
	a := Product{ID: "1", Name: "Wheel", Price: Money{Amount: 100, Currency: "EUR"}, Version: "3",
		Variants: []Variant{{ID: "v1", Name: "Black", Price: Money{Amount: 100, Currency: "EUR"}}, {ID: "v2", Name: "Red"}}}
	b := a
	b.Version, b.Name = "4", "Wheel 29"
	b.Weight = &Weight{Value: "1.2", Unit: "kg"}
	b.Variants = []Variant{{ID: "v1", Name: "Black", Price: Money{Amount: 120, Currency: "EUR"}, Version: "9"}, {ID: "v3", Name: "Blue"}}
	got := ProductDiff(a, b)
	want := []FieldChange{
		{Field: "name", From: "Wheel", To: "Wheel 29"},
		{Field: "weight", From: nil, To: Weight{Value: "1.2", Unit: "kg"}},
		{Field: "variants[v1].price", From: Money{Amount: 100, Currency: "EUR"}, To: Money{Amount: 120, Currency: "EUR"}},
		{Field: "variants[v3]", From: nil, To: Variant{ID: "v3", Name: "Blue"}},
		{Field: "variants[v2]", From: Variant{ID: "v2", Name: "Red"}, To: nil},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("ProductDiff:\n got %+v\nwant %+v", got, want)
	}
	if d := ProductDiff(a, a); len(d) != 0 {
		t.Fatalf("no change: %+v", d)
	}
	if d := CustomerDiff(Customer{Email: "a@x.test", Version: "1"}, Customer{Email: "b@x.test", Version: "2"}); len(d) != 1 || d[0].Field != "email" {
		t.Fatalf("CustomerDiff: %+v", d)
	}
}
