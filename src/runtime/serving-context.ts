import type { Config, Environment } from '../config/spec.js';
import { resolveEnvironment, type ResolvedEnvironment } from '../config/resolve.js';
import { validRowsQuery, type CompiledQuery } from '../checks/index.js';
import type { Product } from '../product/model.js';
import { resolveSource } from '../sql/resolve.js';
import { openWarehouse, type Warehouse, type WarehouseOptions } from './warehouse.js';

/**
 * What a worker's activities need: the configuration, the products it was started with, and one warehouse per
 * environment, opened on first use.
 */
export class ServingContext {
  private readonly warehouses = new Map<string, Promise<Warehouse>>();
  /** Where the worker's own lines go (alerts on the `log` channel): stderr unless given. */
  readonly log: (line: string) => void;

  constructor(
    readonly config: Config,
    readonly products: ReadonlyMap<string, Product>,
    private readonly warehouseOptions: WarehouseOptions & { log?: (line: string) => void } = {},
  ) {
    this.log = warehouseOptions.log ?? ((line) => process.stderr.write(`${line}\n`));
  }

  /** The project folder: relative destinations (a files target's `./exchange/...`) are resolved against it. */
  get root(): string {
    return this.warehouseOptions.root ?? process.cwd();
  }

  /** The environment `name` of the configuration (throws naming the known ones when there is none). */
  environment(name: string): Environment {
    const resolved = resolveEnvironment(this.config, name);
    return this.config.environments[resolved.name as keyof typeof this.config.environments];
  }

  /** The environment `name` resolved: its production flag and destinations say where it writes. */
  resolved(name: string): ResolvedEnvironment {
    return resolveEnvironment(this.config, name);
  }

  product(name: string): Product | undefined {
    return this.products.get(name);
  }

  warehouse(env: string): Promise<Warehouse> {
    let warehouse = this.warehouses.get(env);
    if (!warehouse) {
      warehouse = openWarehouse(resolveEnvironment(this.config, env), this.warehouseOptions);
      warehouse.catch(() => this.warehouses.delete(env));
      this.warehouses.set(env, warehouse);
    }
    return warehouse;
  }

  /**
   * The query a serving target reads in `env`: the product's source, or — for `onDefects: 'quarantine'` — the source
   * without the rows failing a row-level check (those went to `lastmile.quarantine`).
   */
  async servedQuery(productName: string, env: string): Promise<CompiledQuery> {
    const product = this.products.get(productName);
    if (!product) throw new Error(`product ${productName} is not known to this worker`);
    const { schemas } = await this.warehouse(env);
    if (product.onDefects === 'quarantine') return validRowsQuery(product, schemas);
    return { text: resolveSource(product, schemas), values: [] };
  }

  /** Uses an already open warehouse for `env` (the CLI opens it before starting the worker). */
  adopt(warehouse: Warehouse): void {
    this.warehouses.set(warehouse.env, Promise.resolve(warehouse));
  }

  async close(): Promise<void> {
    const all = [...this.warehouses.values()];
    this.warehouses.clear();
    await Promise.all(all.map(async (w) => (await w.catch(() => undefined))?.close()));
  }
}
