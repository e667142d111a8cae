// Validate OpenLineage events (one JSON document per line) with the official
// OpenLineage 2-0-2 JSON Schema, the schemas of the standard facets they use,
// the JSON Schemas of pubdata's own facets (spec/openlineage/ of this
// repository, found from their _schemaURL under the base given as second
// argument), and the rules the spec states in prose: run ids are RFC 4122
// UUIDv7, every run has one START and then a COMPLETE, FAIL or ABORT, custom
// facet names follow {Prefix}{Name}{Entity}Facet; every input field of a
// column lineage facet names one of the event's input datasets.
// Usage: node validate_openlineage.mjs EVENTS.jsonl SCHEMA_BASE
import { readFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoSpec = path.join(here, '..', '..', 'spec', 'openlineage');
const [file, base] = process.argv.slice(2);
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
const load = (f) => JSON.parse(readFileSync(f, 'utf8'));
for (const f of ['OpenLineage-2-0-2.json', 'JobTypeJobFacet-2-0-2.json', 'OwnershipDatasetFacet-1-0-1.json'])
	ajv.addSchema(load(path.join(here, 'openlineage', f)));
const runEvent = ajv.getSchema('https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent');

// ColumnLineageDatasetFacet 1-2-0: the official schema when openlineage/ holds
// it; until then the structure its specification documents (fields: output
// column -> inputFields [{namespace, name, field, transformations [{type
// DIRECT | INDIRECT, subtype, description, masking}]}]), written here
const columnLineageId = 'https://openlineage.io/spec/facets/1-2-0/ColumnLineageDatasetFacet.json';
const columnLineageFile = path.join(here, 'openlineage', 'ColumnLineageDatasetFacet-1-2-0.json');
if (existsSync(columnLineageFile)) {
	ajv.addSchema(load(columnLineageFile));
} else {
	const inputField = {
		type: 'object', required: ['namespace', 'name', 'field'],
		properties: {
			namespace: { type: 'string' }, name: { type: 'string' }, field: { type: 'string' },
			transformations: {
				type: 'array',
				items: {
					type: 'object', required: ['type'],
					properties: {
						type: { enum: ['DIRECT', 'INDIRECT'] }, subtype: { type: 'string' },
						description: { type: 'string' }, masking: { type: 'boolean' },
					},
				},
			},
		},
	};
	ajv.addSchema({
		$schema: 'https://json-schema.org/draft/2020-12/schema',
		$id: columnLineageId,
		$defs: {
			ColumnLineageDatasetFacet: {
				allOf: [
					{ $ref: 'https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/DatasetFacet' },
					{
						type: 'object', required: ['fields'],
						properties: {
							fields: {
								type: 'object',
								additionalProperties: {
									type: 'object', required: ['inputFields'],
									properties: { inputFields: { type: 'array', items: inputField } },
								},
							},
							dataset: { type: 'array', items: inputField },
						},
					},
				],
			},
		},
	});
	console.log('openlineage: ColumnLineageDatasetFacet-1-2-0.json not in openlineage/: checked against its documented structure');
}
let columnFacets = 0;

const errors = [];
const runs = new Map();
const uuidv7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const facetName = /^Pubdata[A-Z][A-Za-z]*(Run|Job|Dataset|InputDataset|OutputDataset)Facet$/;

// every facet's _schemaURL resolves to a schema the facet satisfies
function checkFacet(where, key, facet) {
	const url = facet._schemaURL ?? '';
	const [doc, frag] = url.split('#');
	if (!ajv.getSchema(doc)) {
		if (!base || !doc.startsWith(base)) {
			errors.push(`${where} facet ${key}: _schemaURL ${url} is neither a standard facet nor under ${base}`);
			return;
		}
		const local = path.join(repoSpec, doc.slice(base.length));
		if (!existsSync(local)) {
			errors.push(`${where} facet ${key}: no schema ${local} in the repository for ${url}`);
			return;
		}
		const schema = load(local);
		schema.$id = doc;
		ajv.addSchema(schema);
		const name = (frag ?? '').replace(/^\/\$defs\//, '');
		if (!facetName.test(name))
			errors.push(`${where} facet ${key}: name ${name} is not {Prefix}{Name}{Entity}Facet`);
	}
	const v = ajv.getSchema(url);
	if (!v)
		errors.push(`${where} facet ${key}: ${url} does not resolve to a definition`);
	else if (!v(facet))
		errors.push(`${where} facet ${key}: ${ajv.errorsText(v.errors)}`);
}

const lines = readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '');
lines.forEach((line, i) => {
	const ev = JSON.parse(line);
	const where = `event ${i + 1} (${ev.eventType} ${ev.job?.name})`;
	if (!runEvent(ev))
		errors.push(`${where}: ${ajv.errorsText(runEvent.errors)}`);
	const id = ev.run?.runId ?? '';
	if (!uuidv7.test(id))
		errors.push(`${where}: runId ${id} is not an RFC 4122 UUIDv7`);
	if (!runs.has(id)) runs.set(id, []);
	runs.get(id).push(ev);
	for (const [key, f] of Object.entries(ev.run?.facets ?? {})) checkFacet(`${where} run`, key, f);
	for (const [key, f] of Object.entries(ev.job?.facets ?? {})) checkFacet(`${where} job`, key, f);
	// column lineage names only the event's inputs
	const inputs = new Set((ev.inputs ?? []).map((d) => `${d.namespace} ${d.name}`));
	for (const out of ev.outputs ?? []) {
		const cl = out.facets?.columnLineage;
		if (!cl) continue;
		columnFacets++;
		for (const [col, f] of Object.entries(cl.fields ?? {}))
			for (const i of f.inputFields ?? [])
				if (!inputs.has(`${i.namespace} ${i.name}`))
					errors.push(`${where} column ${col}: input field ${i.namespace} ${i.name}.${i.field} is not an input of the event`);
	}
	for (const ds of [...(ev.inputs ?? []), ...(ev.outputs ?? [])])
		for (const [key, f] of Object.entries(ds.facets ?? {})) checkFacet(`${where} ${ds.name}`, key, f);
});
for (const [id, evs] of runs) {
	const types = evs.map((e) => e.eventType);
	const end = types.findIndex((t) => ['COMPLETE', 'FAIL', 'ABORT'].includes(t));
	if (types.filter((t) => t === 'START').length !== 1 || types[0] !== 'START')
		errors.push(`run ${id}: ${types.join(', ')}: one START must come first`);
	if (end < 0 || types.filter((t) => ['COMPLETE', 'FAIL', 'ABORT'].includes(t)).length !== 1)
		errors.push(`run ${id}: ${types.join(', ')}: one COMPLETE, FAIL or ABORT is required`);
	else if (Date.parse(evs[end].eventTime) < Date.parse(evs[0].eventTime))
		errors.push(`run ${id}: ends (${evs[end].eventTime}) before it starts (${evs[0].eventTime})`);
}
for (const e of errors) console.log(e);
console.log(`openlineage: ${lines.length} events, ${runs.size} runs, ${columnFacets} column lineage facets, ${errors.length} errors`);
process.exit(errors.length > 0 || lines.length === 0 ? 1 : 0);
