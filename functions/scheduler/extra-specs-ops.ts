// Nova's extra-spec operators: a requirement such as `>= 4`, `s== x86_64`, `<in> avx` or
// `<or> kvm <or> qemu` matched against a value a host has. A requirement without an operator is
// string equality. `=` is "at least", numerically (a host with more still satisfies the flavor).
const NUMERIC: Record<string, (have: number, want: number) => boolean> = {
  '=': (have, want) => have >= want,
  '==': (have, want) => have === want,
  '!=': (have, want) => have !== want,
  '>=': (have, want) => have >= want,
  '<=': (have, want) => have <= want,
};

const STRING: Record<string, (have: string, want: string) => boolean> = {
  's==': (have, want) => have === want,
  's!=': (have, want) => have !== want,
  's<': (have, want) => have < want,
  's<=': (have, want) => have <= want,
  's>': (have, want) => have > want,
  's>=': (have, want) => have >= want,
  '<in>': (have, want) => have.includes(want),
};

export function matchesRequirement(have: string | undefined, requirement: string): boolean {
  if (have === undefined) return false;
  const words = requirement.trim().split(/\s+/);
  const [operator = '', ...rest] = words;
  const operand = rest.join(' ');
  if (operator === '<or>') {
    const choices = requirement
      .split('<or>')
      .map((choice) => choice.trim())
      .filter((choice) => choice.length > 0);
    return choices.includes(have);
  }
  const numeric = NUMERIC[operator];
  if (numeric && rest.length > 0) {
    const haveNumber = Number(have);
    const wantNumber = Number(operand);
    return !Number.isNaN(haveNumber) && !Number.isNaN(wantNumber) && numeric(haveNumber, wantNumber);
  }
  const string = STRING[operator];
  if (string && rest.length > 0) return string(have, operand);
  return have === requirement;
}

/** The flavor's extra specs in one scope (`capabilities:`, `aggregate_instance_extra_specs:`), scope removed. */
export function scopedSpecs(extraSpecs: Record<string, string>, scope: string): Array<[string, string]> {
  const prefix = `${scope}:`;
  return Object.entries(extraSpecs)
    .filter(([key]) => key.startsWith(prefix))
    .map(([key, value]) => [key.slice(prefix.length), value]);
}
