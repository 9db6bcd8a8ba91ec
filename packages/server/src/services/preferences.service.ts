import type { Preferences, PreferencesRepository } from '../store/preferences.repository.ts';
import type { TargetsService } from './targets.service.ts';

/**
 * A client's preferences (beyond): the product line the web UI last showed, so that a new browser or a colleague
 * signed in as the same client starts where the work is.
 */
export class PreferencesService {
  constructor(private readonly preferences: PreferencesRepository, private readonly targets: TargetsService) {}

  async get(clientId: string): Promise<Preferences> {
    const stored = await this.preferences.find(clientId);
    // A product line that is gone (or never was this client's) is no preference.
    const targetId = typeof stored.target_id === 'number' && await this.targets.resolve(clientId, stored.target_id).then(() => true, () => false) ? stored.target_id : null;
    return { target_id: targetId };
  }

  /** Only a target of this client (404 otherwise), or none. */
  async set(clientId: string, preferences: Preferences): Promise<Preferences> {
    if (preferences.target_id !== null) await this.targets.resolve(clientId, preferences.target_id);
    await this.preferences.save(clientId, { target_id: preferences.target_id });
    return { target_id: preferences.target_id };
  }
}
