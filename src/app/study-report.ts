import type { Ecosystem } from '../core/ecosystem.ts';
import { createReportBuilder, type StudyReport } from '../core/report/study-report.ts';
import { latestReleasePerProject, type RecordSource } from './record-source.ts';

/**
 * The study's numbers per project: the latest analysed release of each (its latest result), so a
 * store hunted with `--all-versions` counts every project once. Streamed.
 */
export async function studyReport(
  store: RecordSource,
  options: { top: number; ecosystem?: Ecosystem },
): Promise<StudyReport> {
  const builder = createReportBuilder({ top: options.top });
  const filter = options.ecosystem !== undefined ? { ecosystem: options.ecosystem } : {};
  for await (const record of latestReleasePerProject(store, filter)) builder.add(record);
  return builder.finish();
}
