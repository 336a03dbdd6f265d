/** Fixed lists the generator draws from. Passed to SQL as array parameters. */

export interface SupplierSeed {
  name: string;
  country: string;
  /** Share of a lot's fabric that is faulty, 0–1: drives defect events and `defect` returns. */
  quality: number;
  /** Null leaves `contact_email` empty: a documented data-quality wrinkle. */
  contact: boolean;
}

/** SUP-001 … SUP-020 in this order. SUP-007 is the problem supplier, SUP-013 a weaker one, SUP-017 has no contact. */
export const SUPPLIERS: readonly SupplierSeed[] = [
  { name: 'Aurora Textiles', country: 'PT', quality: 0.06, contact: true },
  { name: 'Baltic Weave', country: 'LT', quality: 0.08, contact: true },
  { name: 'Cedar Fabrics', country: 'TR', quality: 0.1, contact: true },
  { name: 'Delta Knit', country: 'VN', quality: 0.07, contact: true },
  { name: 'Everest Synthetics', country: 'CN', quality: 0.12, contact: true },
  { name: 'Fjord Performance', country: 'NO', quality: 0.05, contact: true },
  { name: 'Kestrel Mills', country: 'BD', quality: 0.55, contact: true },
  { name: 'Lumen Yarns', country: 'IT', quality: 0.04, contact: true },
  { name: 'Meridian Textile', country: 'IN', quality: 0.11, contact: true },
  { name: 'Nordic Fibre', country: 'SE', quality: 0.05, contact: true },
  { name: 'Orchid Fabrics', country: 'LK', quality: 0.09, contact: true },
  { name: 'Pioneer Knitting', country: 'TR', quality: 0.1, contact: true },
  { name: 'Quarry Cloth', country: 'CN', quality: 0.3, contact: true },
  { name: 'Riviera Tessuti', country: 'IT', quality: 0.05, contact: true },
  { name: 'Saffron Weaving', country: 'IN', quality: 0.13, contact: true },
  { name: 'Tidewater Mills', country: 'VN', quality: 0.08, contact: true },
  { name: 'Umbra Textiles', country: 'MA', quality: 0.09, contact: false },
  { name: 'Vega Technical', country: 'RO', quality: 0.07, contact: true },
  { name: 'Willow Fabrics', country: 'PT', quality: 0.06, contact: true },
  { name: 'Zenith Polymers', country: 'KR', quality: 0.08, contact: true },
];

export function supplierEmail(name: string): string {
  return `quality@${name.toLowerCase().replace(/[^a-z0-9]+/g, '-')}.example.com`;
}

export const FABRICS = ['recycled polyester', 'nylon-elastane', 'polyester mesh', 'merino blend', 'ripstop nylon'] as const;

/** Running-short styles: SKU code and list price. */
export const STYLES = [
  { code: 'TEMPO5', price: '44.95' },
  { code: 'TEMPO7', price: '49.95' },
  { code: 'SPLIT3', price: '39.95' },
  { code: 'TRAIL6', price: '59.95' },
  { code: 'LINER2', price: '64.95' },
  { code: 'ELITE4', price: '54.95' },
  { code: 'EASY9', price: '34.95' },
  { code: 'MERINO7', price: '69.95' },
] as const;

export const COLORS = ['BLK', 'NVY', 'GRY', 'RED', 'TEA', 'OLV'] as const;

export const FIRST_NAMES = [
  'Anna', 'Ben', 'Clara', 'David', 'Elena', 'Felix', 'Greta', 'Hugo', 'Ines', 'Jonas', 'Katrin', 'Lukas', 'Maria',
  'Noah', 'Olivia', 'Paul', 'Quentin', 'Rosa', 'Samuel', 'Tara', 'Ugo', 'Vera', 'William', 'Xenia', 'Yusuf', 'Zoe',
  'Amelie', 'Bruno', 'Chloe', 'Daan', 'Emma', 'Finn', 'Giulia', 'Henrik', 'Isla', 'Jan', 'Lea', 'Mateo', 'Nora',
  'Oscar',
] as const;

export const LAST_NAMES = [
  'Schmidt', 'Martin', 'de Vries', 'Smith', 'Garcia', 'Rossi', 'Müller', 'Bernard', 'Jansen', 'Jones', 'Lopez',
  'Bianchi', 'Weber', 'Dubois', 'Bakker', "O'Brien", 'Fernandez', 'Romano', 'Fischer', 'Moreau', 'Visser', 'Taylor',
  'Sanchez', 'Colombo', 'Wagner', 'Laurent', 'Meijer', 'Brown', 'Navarro', 'Ricci', 'Becker', 'Lefebvre', 'Peeters',
  'Wilson', 'Johansson', 'Gruber', 'Nowak', 'Andersen', 'Costa', 'Novak',
] as const;

export const EMAIL_DOMAINS = ['example.com', 'example.net', 'example.org', 'mail.example'] as const;

/** Search phrases × modifiers = 96 distinct keywords per campaign before numbering kicks in. */
export const KEYWORD_PHRASES = [
  'running shorts', 'mens running shorts', 'womens running shorts', 'split shorts', 'trail running shorts',
  '2 in 1 running shorts', 'marathon shorts', 'lightweight shorts', 'shorts with liner', 'gym shorts',
  'race day shorts', 'merino shorts',
] as const;
export const KEYWORD_MODIFIERS = ['', ' sale', ' black', ' 5 inch', ' with pockets', ' buy', ' best', ' cheap'] as const;

export const CAMPAIGN_THEMES = [
  'Always-on', 'Spring Launch', 'Summer Sale', 'Marathon Season', 'Black Friday', 'Trail Series', 'Brand', 'Retargeting',
] as const;
export const CAMPAIGN_MARKETS = ['DE', 'FR', 'NL', 'UK', 'EU', 'US'] as const;
export const AD_PLATFORMS = ['google_ads', 'meta_ads', 'microsoft_ads', 'tiktok_ads'] as const;
