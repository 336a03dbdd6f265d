import type { Product } from './model.js';
import type { Problem } from './problems.js';
import { ValidationError } from './problems.js';
import { issuesToProblems } from './issues.js';
import { productSchema } from './schemas/product.js';
import { literalSecretProblems } from './secret-scan.js';
import { at } from './raw.js';
import { referenceProblems } from './semantic.js';
import { isProductDefinition } from './spec.js';
import type { ProductDefinition } from './spec.js';

export interface ProductValidation {
  /** The validated product, when there are no problems. */
  product?: Product;
  problems: Problem[];
}

/**
 * Validates a product declaration (what `defineProduct` returned, or a plain object): schema, literal secrets and
 * cross-references, all problems at once.
 */
export function validateProduct(raw: unknown, file?: string): ProductValidation {
  const secrets = literalSecretProblems(raw, file);
  const parsed = productSchema.safeParse(raw, { reportInput: true });
  const schemaProblems = parsed.success ? [] : issuesToProblems(parsed.error.issues, file);
  const problems = annotate(
    dedupe([...secrets, ...schemaProblems.filter((problem) => !secrets.some((s) => within(problem.path, s.path))), ...referenceProblems(raw, file)]),
    raw,
  );
  if (problems.length > 0 || !parsed.success) return { problems };
  const product: Product = file === undefined ? parsed.data : { ...parsed.data, file };
  return { product, problems };
}

/** A validated product from a definition; throws `ValidationError` listing every problem. */
export function toProduct<C extends string, M extends string>(definition: ProductDefinition<C, M> | Product<C, M>): Product<C, M> {
  if (!isProductDefinition(definition)) return definition as Product<C, M>;
  const { product, problems } = validateProduct(definition);
  if (!product) throw new ValidationError(problems);
  // The schema checked every name against the declaration that typed C and M.
  return product as unknown as Product<C, M>;
}

function within(path: string, parent: string): boolean {
  return path === parent || path.startsWith(`${parent}.`) || path.startsWith(`${parent}[`);
}

function dedupe(problems: readonly Problem[]): Problem[] {
  const seen = new Set<string>();
  return problems.filter((problem) => {
    const key = `${problem.path}\u0000${problem.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Adds the product and target names, when known, so problems say what they are about. */
function annotate(problems: readonly Problem[], raw: unknown): Problem[] {
  const name = at(raw, 'name');
  const serve = at(raw, 'serve');
  return problems.map((problem) => {
    const match = /^serve\[(\d+)\]/.exec(problem.path);
    const target = match && Array.isArray(serve) ? at(serve[Number(match[1])], 'name') : undefined;
    return {
      ...problem,
      ...(typeof name === 'string' && { product: name }),
      ...(typeof target === 'string' && { target }),
    };
  });
}
