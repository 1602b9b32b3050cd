// Checks the API reference: every export of src/index.ts is documented, and every class and function has an @example.
import { readFileSync } from 'node:fs';

const file = process.argv[2] ?? 'docs/api.json';
const project = JSON.parse(readFileSync(file, 'utf8'));
// TypeDoc reflection kinds: https://typedoc.org/api/enums/Models.ReflectionKind.html
const kKinds = { 32: 'variable', 64: 'function', 128: 'class', 256: 'interface', 2097152: 'type' };
const problems = [];

const hasText = (comment) => Boolean(comment?.summary?.some((part) => part.text.trim()));
const hasExample = (comment) => Boolean(comment?.blockTags?.some((tag) => tag.tag === '@example'));

for (const child of project.children ?? []) {
  const kind = kKinds[child.kind];
  if (!kind) continue;
  const comments = [child.comment, ...(child.signatures ?? []).map((s) => s.comment)];
  if (!comments.some(hasText)) problems.push(`${kind} ${child.name}: no documentation`);
  if ((kind === 'class' || kind === 'function') && !comments.some(hasExample)) {
    problems.push(`${kind} ${child.name}: no @example`);
  }
}

if (problems.length > 0) {
  console.error(`API documentation check failed (${problems.length}):\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log(`API documentation check: ${project.children?.length ?? 0} exports documented.`);
