/** A CloudFormation template as cfn-guard reads it. */
export interface TemplateDocument {
  readonly Resources?: Readonly<Record<string, { readonly Type?: string } & Record<string, unknown>>>;
  readonly [section: string]: unknown;
}

/** Resource types present in a template. */
export function resourceTypesOf(template: TemplateDocument): Set<string> {
  return new Set(Object.values(template.Resources ?? {}).map((resource) => resource.Type ?? ''));
}

/**
 * The part of a template that rules selecting `types` can see: every section but
 * `Resources` whole, the resources of those types, and every resource they reach through
 * `Ref`, `Fn::GetAtt`, `Fn::Sub` or `DependsOn`, transitively.
 *
 * A rule that selects resources by a literal type (`Resources.*[ Type == "AWS::S3::Bucket" ]`)
 * and follows references by logical id (`Resources[ keys == %ref ]`, as the Control Tower
 * rules do) finds in the slice exactly what it finds in the whole template.
 */
export function sliceTemplate(template: TemplateDocument, types: ReadonlySet<string>): TemplateDocument {
  const resources = template.Resources ?? {};
  const kept = new Set(Object.keys(resources).filter((id) => types.has(resources[id]?.Type ?? '')));
  const queue = [...kept];
  for (let id = queue.pop(); id !== undefined; id = queue.pop()) {
    for (const target of referencedIds(resources[id])) {
      if (target in resources && !kept.has(target)) {
        kept.add(target);
        queue.push(target);
      }
    }
  }
  const sliced = Object.fromEntries(Object.entries(resources).filter(([id]) => kept.has(id)));
  return { ...template, Resources: sliced };
}

/** Logical ids a template value refers to. */
export function referencedIds(value: unknown, into: Set<string> = new Set()): Set<string> {
  if (Array.isArray(value)) {
    for (const item of value) referencedIds(item, into);
  } else if (value !== null && typeof value === 'object') {
    for (const [key, inner] of Object.entries(value)) {
      if (key === 'Ref' && typeof inner === 'string') into.add(inner);
      else if (key === 'Fn::GetAtt') into.add(getAttTarget(inner));
      else if (key === 'DependsOn') for (const id of [inner].flat()) into.add(String(id));
      else if (key === 'Fn::Sub') for (const id of subReferences(inner)) into.add(id);
      referencedIds(inner, into);
    }
  }
  return into;
}

function getAttTarget(value: unknown): string {
  return Array.isArray(value) ? String(value[0]) : (String(value).split('.')[0] ?? '');
}

/** `${Name}` and `${Name.Attribute}` in a `Fn::Sub` string (`${!Literal}` is not a reference). */
function subReferences(value: unknown): string[] {
  const text = Array.isArray(value) ? value[0] : value;
  if (typeof text !== 'string') return [];
  return [...text.matchAll(/\$\{([^!}][^}]*)\}/g)].map((match) => (match[1] ?? '').split('.')[0] ?? '');
}
