/**
 * How common a behaviour is across analysed packages (built by src/core/population). With it,
 * rare behaviour weighs more and behaviour common among popular packages weighs less.
 */
export interface PopulationView {
  packages: number;
  share(
    kind: 'host' | 'command' | 'path' | 'dns',
    key: string,
  ): { packages: number; popularPackages: number };
}
