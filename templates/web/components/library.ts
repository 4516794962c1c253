/** The library's vocabulary (docs/library-graph.md; spellings of free-exercise-db), for the filters. */
export const REGIONS: Record<string, string[]> = {
  legs: ['quadriceps', 'hamstrings', 'glutes', 'calves', 'adductors', 'abductors'],
  back: ['lats', 'middle back', 'lower back', 'traps'],
  chest: ['chest'],
  arms: ['biceps', 'triceps', 'forearms'],
  shoulders: ['shoulders', 'neck'],
  core: ['abdominals'],
};
export const MUSCLES = Object.values(REGIONS).flat().sort();
export const EQUIPMENT = ['barbell', 'dumbbell', 'kettlebells', 'cable', 'machine', 'bands', 'body only', 'e-z curl bar', 'exercise ball', 'foam roll', 'medicine ball', 'other'];
export const CATEGORIES = ['strength', 'stretching', 'plyometrics', 'cardio', 'powerlifting', 'olympic weightlifting', 'strongman'];
export const LEVELS = ['beginner', 'intermediate', 'expert'];

export const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
