import type { Config } from '../config/spec.js';
import { resolveEnvironment } from '../config/resolve.js';
import type { Product } from '../product/model.js';
import { openWarehouse, type Warehouse, type WarehouseOptions } from './warehouse.js';

/**
 * What a worker's activities need: the configuration, the products it was started with, and one warehouse per
 * environment, opened on first use.
 */
export class ServingContext {
  private readonly warehouses = new Map<string, Promise<Warehouse>>();

  constructor(
    readonly config: Config,
    readonly products: ReadonlyMap<string, Product>,
    private readonly warehouseOptions: WarehouseOptions = {},
  ) {}

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
