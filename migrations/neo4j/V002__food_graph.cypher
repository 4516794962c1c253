// V002 — food graph: foods and their lookups.

CREATE CONSTRAINT helfy_food_id IF NOT EXISTS
  FOR (f:Food) REQUIRE f.id IS UNIQUE;

CREATE RANGE INDEX helfy_food_name IF NOT EXISTS
  FOR (f:Food) ON (f.name);

// Search over food names and brands ("greek yogurt", "oat").
CREATE FULLTEXT INDEX helfy_food_name_fulltext IF NOT EXISTS
  FOR (f:Food) ON EACH [f.name, f.brand]
  OPTIONS { indexConfig: { `fulltext.analyzer`: 'standard-no-stop-words' } };
