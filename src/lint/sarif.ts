/**
 * The findings as SARIF 2.1.0 (the format code-scanning tools read): one run whose tool is `lastmile` with every
 * rule described, one result per finding with its repository-relative location. The fix is part of the message.
 */
import { RULES } from './catalog.js';
import type { LintResult, Severity } from './types.js';

export const SARIF_SCHEMA = 'https://json.schemastore.org/sarif-2.1.0.json';

export interface SarifLog {
  $schema: string;
  version: '2.1.0';
  runs: SarifRun[];
}

export interface SarifRun {
  tool: { driver: { name: string; informationUri?: string; version?: string; rules: SarifRule[] } };
  columnKind: 'utf16CodeUnits';
  results: SarifResult[];
}

export interface SarifRule {
  id: string;
  name: string;
  shortDescription: { text: string };
  fullDescription: { text: string };
  help: { text: string; markdown: string };
  defaultConfiguration: { level: SarifLevel };
}

export interface SarifResult {
  ruleId: string;
  ruleIndex: number;
  level: SarifLevel;
  message: { text: string };
  locations: {
    physicalLocation: {
      artifactLocation: { uri: string; uriBaseId: '%SRCROOT%' };
      region: { startLine: number; startColumn: number; endLine: number; endColumn: number };
    };
  }[];
}

export type SarifLevel = 'error' | 'warning';

const level = (severity: Severity): SarifLevel => severity;

/** `credentialsTokenShape` for `credentials/token-shape`: SARIF's `name` is an identifier; the id keeps its slash. */
const ruleName = (id: string): string => id.replace(/[/-](\w)/g, (_, c: string) => c.toUpperCase());

export function toSarif(result: LintResult, options: { version?: string } = {}): SarifLog {
  const index = new Map(RULES.map((rule, i) => [rule.id, i] as const));
  return {
    $schema: SARIF_SCHEMA,
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'lastmile',
            ...(options.version && { version: options.version }),
            rules: RULES.map((rule) => ({
              id: rule.id,
              name: ruleName(rule.id),
              shortDescription: { text: rule.summary },
              fullDescription: { text: `${rule.summary} ${rule.why}` },
              help: {
                text: `${rule.fix} Suppress one line with // lastmile-lint-ignore ${rule.id}: <reason> on the line before.`,
                markdown: `${rule.fix}\n\nSuppress one line with \`// lastmile-lint-ignore ${rule.id}: <reason>\` on the line before.`,
              },
              defaultConfiguration: { level: level(rule.severity) },
            })),
          },
        },
        columnKind: 'utf16CodeUnits',
        results: result.findings.map((finding) => ({
          ruleId: finding.rule,
          ruleIndex: index.get(finding.rule)!,
          level: level(finding.severity),
          message: { text: `${finding.message}. Fix: ${finding.fix}.` },
          locations: [
            {
              physicalLocation: {
                artifactLocation: { uri: finding.file, uriBaseId: '%SRCROOT%' },
                region: { startLine: finding.line, startColumn: finding.column, endLine: finding.endLine, endColumn: finding.endColumn },
              },
            },
          ],
        })),
      },
    ],
  };
}
