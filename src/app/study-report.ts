import { createReportBuilder, type StudyReport } from '../core/report/study-report.ts';
import { latestRecords, type RecordSource } from './record-source.ts';

/** The study's numbers over the latest record of each project in the store, streamed. */
export async function studyReport(store: RecordSource, options: { top: number }): Promise<StudyReport> {
  const builder = createReportBuilder({ top: options.top });
  for await (const record of latestRecords(store)) builder.add(record);
  return builder.finish();
}
