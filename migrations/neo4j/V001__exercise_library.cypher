// V001 — exercise library: exercises, muscles, equipment, categories, routines.
//
// Neo4j Community Edition supports only uniqueness constraints (existence, key and type
// constraints need Enterprise). Every constraint and index is named `helfy_*` so that
// `helfy migrate --verify` can spot drift. Statements end with `;` at the end of a line.
// Schema statements use IF NOT EXISTS so a file that failed halfway can be rerun.

CREATE CONSTRAINT helfy_exercise_id IF NOT EXISTS
  FOR (e:Exercise) REQUIRE e.id IS UNIQUE;

CREATE CONSTRAINT helfy_muscle_name IF NOT EXISTS
  FOR (m:Muscle) REQUIRE m.name IS UNIQUE;

CREATE CONSTRAINT helfy_equipment_name IF NOT EXISTS
  FOR (q:Equipment) REQUIRE q.name IS UNIQUE;

CREATE CONSTRAINT helfy_category_name IF NOT EXISTS
  FOR (c:Category) REQUIRE c.name IS UNIQUE;

CREATE CONSTRAINT helfy_routine_id IF NOT EXISTS
  FOR (r:Routine) REQUIRE r.id IS UNIQUE;

// Exact and prefix lookups by name (Muscle, Equipment and Category names are already
// indexed by their uniqueness constraints).
CREATE RANGE INDEX helfy_exercise_name IF NOT EXISTS
  FOR (e:Exercise) ON (e.name);

CREATE RANGE INDEX helfy_exercise_level IF NOT EXISTS
  FOR (e:Exercise) ON (e.level);

CREATE RANGE INDEX helfy_routine_name IF NOT EXISTS
  FOR (r:Routine) ON (r.name);

// Search-as-you-type over exercise names ("bench", "curl").
CREATE FULLTEXT INDEX helfy_exercise_name_fulltext IF NOT EXISTS
  FOR (e:Exercise) ON EACH [e.name]
  OPTIONS { indexConfig: { `fulltext.analyzer`: 'standard-no-stop-words' } };
