import { type Static, type TSchema, Type } from '@sinclair/typebox';
import { FilePart, JsonTextPart, RemoteLink } from '../shared/multipart.js';
import { EntryName, EntryNameKey } from '../shared/names.js';
import { Nullable } from '../shared/nullable.js';
import { SafeInteger, Timestamp } from '../shared/numbers.js';

/**
 * What is logged to an experiment besides metrics: parameters, others, tags, documents, output,
 * assets and models (`/api/cairn/v1/experiments/{key}/…`).
 */

const NullableInteger = Nullable(Type.Integer());

/** A parameter's or other's value as logged: number, string or boolean. */
export const LoggedScalar = Type.Unsafe<number | string | boolean>({ type: ['number', 'string', 'boolean'] });

export const LoggedValue = Type.Object({
  name: Type.String(),
  value: LoggedScalar,
  type: Type.Union([Type.Literal('number'), Type.Literal('string'), Type.Literal('boolean')]),
  step: NullableInteger,
  timestamp: Type.Integer(),
  /** The context it was logged in ("train", "val", …), null when none. */
  context: Nullable(Type.String()),
});
export type LoggedValue = Static<typeof LoggedValue>;

export const LoggedValuesQuery = Type.Object({
  /** true: every logged value, in logging order; false (default): the current value of each name, by name. */
  history: Type.Optional(Type.Boolean()),
});
export const LoggedValueList = Type.Object({ items: Type.Array(LoggedValue) });
export type LoggedValueList = Static<typeof LoggedValueList>;

/**
 * `values` maps names to values. Nested objects are flattened with "." (`{optimizer: {name: "adam"}}`
 * logs `optimizer.name`); arrays and empty objects are stored as their JSON text; null logs an
 * empty string. `step`, `timestamp` and `context` apply to every value of the call.
 */
export const LogValuesBody = Type.Object(
  {
    values: Type.Record(EntryNameKey, Type.Unknown(), { additionalProperties: false }),
    step: Type.Optional(Nullable(SafeInteger())),
    timestamp: Type.Optional(Timestamp()),
    context: Type.Optional(Nullable(Type.String())),
  },
  { additionalProperties: false },
);
export type LogValuesBody = Static<typeof LogValuesBody>;

export const TagList = Type.Object({ tags: Type.Array(Type.String()) });
export type TagList = Static<typeof TagList>;
export const AddTagsBody = Type.Object({ tags: Type.Array(EntryName()) }, { additionalProperties: false });
export const TagParams = Type.Object({ key: Type.String({ minLength: 1 }), tag: Type.String({ minLength: 1 }) });

export const DOCUMENT_KINDS = [
  'html',
  'code',
  'graph',
  'git-metadata',
  'system-details',
  'cloud-details',
  'dependencies',
] as const;
export type DocumentKind = (typeof DOCUMENT_KINDS)[number];
const DocumentKindSchema = Type.Unsafe<DocumentKind>({ type: 'string', enum: [...DOCUMENT_KINDS] });

export const DocumentParams = Type.Object({ key: Type.String({ minLength: 1 }), kind: DocumentKindSchema });
export const DocumentInfo = Type.Object({ kind: DocumentKindSchema, size: Type.Integer(), updatedAt: Type.Integer() });
export const DocumentList = Type.Object({ items: Type.Array(DocumentInfo) });
/** The JSON kinds (git-metadata, system-details, cloud-details, dependencies) hold JSON text. */
export const Document = Type.Object({ kind: DocumentKindSchema, content: Type.String(), updatedAt: Type.Integer() });
export type Document = Static<typeof Document>;
/**
 * `GET …/documents/html/raw`: the html document itself as `text/html`, sandboxed by its
 * Content-Security-Policy, for the web UI to frame.
 */
export const RawHtmlDocument = Type.String({ description: 'the stored HTML, as text/html; charset=utf-8' });
export const PutDocumentBody = Type.Object({ content: Type.String() }, { additionalProperties: false });

export const OutputLine = Type.Object({
  /** Position in the experiment's output, from 1, in arrival order. */
  seq: Type.Integer(),
  text: Type.String(),
  stderr: Type.Boolean(),
  context: Nullable(Type.String()),
  timestamp: Type.Integer(),
});
export type OutputLine = Static<typeof OutputLine>;

export const OutputQuery = Type.Object({
  cursor: Type.Optional(Type.String()),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000, default: 1000 })),
  /** Only stdout or only stderr lines. */
  stream: Type.Optional(Type.Union([Type.Literal('stdout'), Type.Literal('stderr')])),
  /** Case-insensitive substring of the line. */
  search: Type.Optional(Type.String()),
});
export const OutputPage = Type.Object({
  items: Type.Array(OutputLine),
  nextCursor: Nullable(Type.String()),
  /** Lines matching `stream` and `search`, on every page. */
  total: Type.Integer(),
});
export type OutputPage = Static<typeof OutputPage>;

export const LogOutputBody = Type.Object(
  {
    lines: Type.Array(
      Type.Object({
        text: Type.String(),
        stderr: Type.Optional(Type.Boolean()),
        context: Type.Optional(Nullable(Type.String())),
        timestamp: Type.Optional(Timestamp()),
      }),
    ),
  },
  { additionalProperties: false },
);
export type LogOutputBody = Static<typeof LogOutputBody>;

export const Asset = Type.Object({
  id: Type.String(),
  fileName: Type.String(),
  size: Type.Integer(),
  /** What the file is: "asset", "image", "text-sample", "model-element", "confusion-matrix", … */
  type: Type.String(),
  /** The media type it is served with, from its file name. */
  contentType: Type.String(),
  step: NullableInteger,
  epoch: NullableInteger,
  context: Nullable(Type.String()),
  /** JSON text, as logged. */
  metadata: Nullable(Type.String()),
  /** The experiment model it belongs to, if any. */
  model: Nullable(Type.String()),
  remote: Type.Boolean(),
  /** A remote asset's URI; null for stored bytes. */
  link: Nullable(Type.String()),
  createdAt: Type.Integer(),
});
export type Asset = Static<typeof Asset>;

/** What a part left empty means: the same as leaving it out. */
const MaybeEmpty = <T extends TSchema>(schema: T) => Type.Union([Type.Literal(''), schema]);

/**
 * `POST /experiments/{key}/assets`, multipart (documentation only: the route reads the parts as a
 * stream and enforces this). An empty part is as good as none. A stored asset has the `file` part;
 * a remote one has `link` and a `fileName` instead. A model's files have the type `model-element`,
 * which only they have.
 */
export const AssetUploadParts = Type.Object(
  {
    file: Type.Optional(FilePart('The bytes; their name is the default fileName')),
    id: Type.Optional(
      MaybeEmpty(
        Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$', description: "This experiment's id replaces its asset" }),
      ),
    ),
    fileName: Type.Optional(MaybeEmpty(EntryName())),
    type: Type.Optional(MaybeEmpty(EntryName({ description: 'Default: asset (model-element for a model)' }))),
    step: Type.Optional(MaybeEmpty(SafeInteger())),
    epoch: Type.Optional(MaybeEmpty(SafeInteger())),
    context: Type.Optional(Type.String()),
    metadata: Type.Optional(JsonTextPart('Any JSON document')),
    model: Type.Optional(MaybeEmpty(EntryName({ description: 'The experiment model the file belongs to' }))),
    link: Type.Optional(MaybeEmpty(RemoteLink)),
  },
  {
    additionalProperties: false,
    allOf: [
      {
        oneOf: [
          { required: ['file'], properties: { link: Type.Literal('') } },
          {
            required: ['link', 'fileName'],
            properties: { link: RemoteLink, fileName: EntryName() },
            not: { required: ['file'] },
          },
        ],
      },
      // A model's file has type model-element (or none, which means it); that type needs a model.
      {
        anyOf: [
          { required: ['model'], properties: { model: EntryName(), type: { enum: ['', 'model-element'] } } },
          { properties: { model: { const: '' }, type: { not: { const: 'model-element' } } } },
        ],
      },
    ],
  },
);

export const AssetParams = Type.Object({ key: Type.String({ minLength: 1 }), assetId: Type.String({ minLength: 1 }) });
export const AssetListQuery = Type.Object({ type: Type.Optional(Type.String()) });
export const AssetList = Type.Object({ items: Type.Array(Asset) });
export type AssetList = Static<typeof AssetList>;

export const Model = Type.Object({ name: Type.String(), createdAt: Type.Integer(), assets: Type.Array(Asset) });
export type Model = Static<typeof Model>;
export const ModelList = Type.Object({ items: Type.Array(Model) });
export type ModelList = Static<typeof ModelList>;
