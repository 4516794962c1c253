// V003 — the rest of the library graph that `helfy seed` loads and the API reads
// (docs/library-graph.md): body regions, food groups, food portions.

CREATE CONSTRAINT helfy_body_region_name IF NOT EXISTS
  FOR (r:BodyRegion) REQUIRE r.name IS UNIQUE;

CREATE CONSTRAINT helfy_food_group_code IF NOT EXISTS
  FOR (g:FoodGroup) REQUIRE g.code IS UNIQUE;

CREATE CONSTRAINT helfy_portion_id IF NOT EXISTS
  FOR (p:Portion) REQUIRE p.id IS UNIQUE;
