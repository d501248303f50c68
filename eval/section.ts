/** What one part of the eval hands back: a markdown table and whether its claims hold. */
export interface SectionResult {
  title: string;
  table: string;
  passed: boolean;
}

export interface Section {
  run(): Promise<SectionResult>;
}
