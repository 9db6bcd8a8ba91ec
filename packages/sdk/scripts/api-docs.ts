/**
 * Generates API.md, the SDK's reference, from its source with the TypeScript compiler (TypeDoc is not a
 * dependency here): every public member of the exported classes with its signature and doc comment.
 * `node --import tsx packages/sdk/scripts/api-docs.ts` rewrites the file; a test fails when it is stale.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import ts from 'typescript';

const SRC = resolve(import.meta.dirname, '../src');
export const API_DOC_PATH = resolve(import.meta.dirname, '../API.md');

function docOf(node: ts.Node, source: ts.SourceFile): string {
  const ranges = ts.getLeadingCommentRanges(source.text, node.getFullStart()) ?? [];
  const jsdoc = ranges.map((r) => source.text.slice(r.pos, r.end)).filter((c) => c.startsWith('/**')).pop();
  if (!jsdoc) return '';
  return jsdoc
    .replace(/^\/\*\*\s?/, '')
    .replace(/\s*\*\/$/, '')
    .split('\n')
    .map((line) => line.replace(/^\s*\* ?/, ''))
    .join('\n')
    .replace(/\{@link (\w+)\}/g, '`$1`')
    .replace(/@example\n([\s\S]*)$/, 'Example:\n\n```ts\n$1\n```')
    .trim();
}

function signatureOf(member: ts.ClassElement, source: ts.SourceFile): string | null {
  const isPrivate = ts.getCombinedModifierFlags(member as ts.Declaration) & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected);
  if (isPrivate || !member.name || ts.isPrivateIdentifier(member.name)) return null;
  const name = member.name.getText(source);
  const oneLine = (text: string) => text.replace(/\s*\n\s*/g, ' ').replace(/,\s*\)/g, ')');
  if (ts.isMethodDeclaration(member)) {
    const params = member.parameters.map((p) => p.getText(source)).join(', ');
    const async = member.modifiers?.some((m) => m.kind === ts.SyntaxKind.AsyncKeyword) ? 'async ' : '';
    return oneLine(`${async}${name}(${params}): ${member.type?.getText(source) ?? 'void'}`);
  }
  if (ts.isGetAccessor(member)) return `get ${name}(): ${member.type?.getText(source) ?? 'unknown'}`;
  if (ts.isPropertyDeclaration(member)) {
    const readonly = member.modifiers?.some((m) => m.kind === ts.SyntaxKind.ReadonlyKeyword) ? 'readonly ' : '';
    return `${readonly}${name}: ${member.type?.getText(source) ?? 'unknown'}`;
  }
  if (ts.isConstructorDeclaration(member)) return oneLine(`new (${member.parameters.map((p) => p.getText(source)).join(', ')})`);
  return null;
}

function classSection(file: string, source: ts.SourceFile, node: ts.ClassDeclaration): string[] {
  const lines = [`## class ${node.name!.text}`, '', `Source: \`src/${file}\``, ''];
  const doc = docOf(node, source);
  if (doc) lines.push(doc, '');
  for (const member of node.members) {
    const signature = signatureOf(member, source);
    if (!signature) continue;
    lines.push(`### \`${signature}\``, '');
    const memberDoc = docOf(member, source);
    if (memberDoc) lines.push(memberDoc, '');
  }
  return lines;
}

function interfaceSection(source: ts.SourceFile, node: ts.InterfaceDeclaration | ts.TypeAliasDeclaration): string[] {
  const lines = [`### \`${node.name.text}\``, ''];
  const doc = docOf(node, source);
  if (doc) lines.push(doc, '');
  lines.push('```ts', node.getText(source).replace(/^\s*\/\*\*[\s\S]*?\*\/\s*/, ''), '```', '');
  return lines;
}

export function renderApiDocs(): string {
  const lines = [
    '# @kensa/sdk API reference',
    '',
    'Generated from the source by `node --import tsx packages/sdk/scripts/api-docs.ts`; do not edit by hand.',
    'Responses use the wire\'s snake_case field names (see `src/types.ts` and the wire contract).',
    '',
  ];
  for (const file of ['sdk.ts', 'errors.ts']) {
    const source = ts.createSourceFile(file, readFileSync(resolve(SRC, file), 'utf8'), ts.ScriptTarget.ES2022, true);
    for (const statement of source.statements) {
      const exported = ts.canHaveModifiers(statement) && ts.getModifiers(statement)?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword);
      if (exported && ts.isClassDeclaration(statement) && statement.name) lines.push(...classSection(file, source, statement));
    }
  }
  lines.push('## Options and response types', '');
  for (const file of ['sdk.ts', 'files.ts', 'types.ts']) {
    const source = ts.createSourceFile(file, readFileSync(resolve(SRC, file), 'utf8'), ts.ScriptTarget.ES2022, true);
    for (const statement of source.statements) {
      const exported = ts.canHaveModifiers(statement) && ts.getModifiers(statement)?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword);
      if (exported && (ts.isInterfaceDeclaration(statement) || ts.isTypeAliasDeclaration(statement))) lines.push(...interfaceSection(source, statement));
    }
  }
  return `${lines.join('\n').trimEnd()}\n`;
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.dirname, 'api-docs.ts')) {
  writeFileSync(API_DOC_PATH, renderApiDocs());
  console.log(`Wrote ${API_DOC_PATH}`);
}
