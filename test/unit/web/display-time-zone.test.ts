import { expect } from 'chai';
import { ConfigError } from '#shared/config.js';
import { loadWebConfig } from '#web/config.js';

describe('DISPLAY_TIME_ZONE (web config)', () => {
  it('defaults to Europe/Paris', () => {
    expect(loadWebConfig({ NODE_ENV: 'test' }).displayTimeZone).to.equal('Europe/Paris');
  });

  it('accepts any zone Intl knows, canonicalised', () => {
    expect(loadWebConfig({ NODE_ENV: 'test', DISPLAY_TIME_ZONE: 'America/Martinique' }).displayTimeZone).to.equal(
      'America/Martinique',
    );
    expect(loadWebConfig({ NODE_ENV: 'test', DISPLAY_TIME_ZONE: 'europe/paris' }).displayTimeZone).to.equal(
      'Europe/Paris',
    );
  });

  it('refuses an unknown zone at start-up, naming the variable', () => {
    for (const bad of ['Europe/Lutece', 'Paris', '+02:00']) {
      expect(() => loadWebConfig({ NODE_ENV: 'test', DISPLAY_TIME_ZONE: bad }), bad)
        .to.throw(ConfigError, 'DISPLAY_TIME_ZONE')
        .with.property('message')
        .that.contains(bad);
    }
  });
});
