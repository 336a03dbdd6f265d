/**
 * lower_snake of a free-form id, for names in the warehouse: `SUP-001` → `sup_001`, accents dropped, at most 40
 * characters, `consumer` when nothing is left. Two ids with the same snake name the same view and role.
 */
export function snakeId(text: string): string {
  return (
    text
      .normalize('NFKD')
      .replace(/[^\x20-\x7e]/g, '')
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '_')
      .replace(/^_+|_+$/g, '')
      .slice(0, 40) || 'consumer'
  );
}
