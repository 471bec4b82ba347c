// Checks frames the server really sent against docs/asyncapi.yaml (and the openapi.yaml models
// it refers to): required fields present, no undocumented field, types, consts and enums.
// A small checker for the JSON Schema the documents use, so the SDK's tests catch a server
// that drifts from its documents without a validator dependency.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';

type Schema = Record<string, any>;

// Compiled to dist/test/support/, five levels below the repository.
const docs = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../../docs');
const documents: Record<string, Schema> = {
  'asyncapi.yaml': YAML.parse(readFileSync(path.join(docs, 'asyncapi.yaml'), 'utf8')),
  'openapi.yaml': YAML.parse(readFileSync(path.join(docs, 'openapi.yaml'), 'utf8')),
};

function resolve(ref: string, base: string): { schema: Schema; base: string } {
  const [file, pointer] = ref.split('#');
  const doc = file ? path.basename(file) : base;
  const schema = pointer!.split('/').filter(Boolean).reduce((node: Schema, key) => node[key], documents[doc]!);
  return { schema, base: doc };
}

/** The frame schema of each server event, by type, from the AsyncAPI messages. */
const frameSchemas = new Map<string, Schema>();
for (const message of Object.values(documents['asyncapi.yaml']!.components.messages) as Schema[]) {
  const type = message.name as string;
  if (type === 'ack') continue;
  frameSchemas.set(type, message.payload);
}

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function check(value: unknown, schema: Schema, base: string, at: string, problems: string[]): void {
  if (schema.$ref) {
    const target = resolve(schema.$ref, base);
    return check(value, target.schema, target.base, at, problems);
  }
  if (schema.oneOf || schema.anyOf) {
    const options = (schema.oneOf ?? schema.anyOf) as Schema[];
    const fits = options.some((option) => {
      const found: string[] = [];
      check(value, option, base, at, found);
      return found.length === 0;
    });
    if (!fits) problems.push(`${at}: fits none of its ${options.length} alternatives`);
    return;
  }
  for (const part of (schema.allOf ?? []) as Schema[]) check(value, part, base, at, problems);
  if ('const' in schema && value !== schema.const) problems.push(`${at}: ${JSON.stringify(value)} is not ${schema.const}`);
  if (schema.enum && !schema.enum.includes(value)) problems.push(`${at}: ${JSON.stringify(value)} is not one of ${schema.enum}`);
  if (schema.type) {
    const types = ([] as string[]).concat(schema.type);
    const actual = typeOf(value);
    if (!types.includes(actual) && !(actual === 'integer' && types.includes('number'))) {
      problems.push(`${at}: a ${actual}, documented as ${types.join('|')}`);
      return;
    }
  }
  if (typeOf(value) === 'object' && (schema.properties || schema.required)) {
    const object = value as Record<string, unknown>;
    for (const key of (schema.required ?? []) as string[]) if (!(key in object)) problems.push(`${at}.${key}: required, missing`);
    for (const [key, field] of Object.entries(object)) {
      const property = schema.properties?.[key];
      if (property) check(field, property, base, `${at}.${key}`, problems);
      else if (schema.additionalProperties === false || (schema.additionalProperties === undefined && schema.properties)) {
        if (schema.additionalProperties !== true) problems.push(`${at}.${key}: not documented`);
      }
    }
  }
  if (Array.isArray(value) && schema.items) value.forEach((item, i) => check(item, schema.items, base, `${at}[${i}]`, problems));
}

/** Problems of a frame the server pushed (not an ack), [] when it is as documented. */
export function serverFrameProblems(frame: { type?: string }): string[] {
  const schema = frame.type === undefined ? undefined : frameSchemas.get(frame.type);
  if (!schema) return [`${frame.type}: not a documented server event`];
  const problems: string[] = [];
  check(frame, schema, 'asyncapi.yaml', frame.type!, problems);
  return problems;
}
