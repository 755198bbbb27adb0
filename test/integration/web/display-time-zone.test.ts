import { expect } from 'chai';
import request from 'supertest';
import { describeEachDatabase } from '../../helpers/databases.js';
import { startStack, submitLogin, type Stack } from '../../helpers/fixtures.js';

/** Pages show dates in the configured zone, with the zone's offset; Paris by default. */
describeEachDatabase('dates in the configured DISPLAY_TIME_ZONE', ({ db, url }) => {
  let stack: Stack;
  before(async () => {
    stack = await startStack(db(), url(), { DISPLAY_TIME_ZONE: 'America/New_York' });
  });
  after(() => stack.close());

  it('shows the seeded movements of alice in New York time', async () => {
    const agent = request.agent(stack.web.callback());
    expect((await submitLogin(agent, 'alice', 'password123')).status).to.equal(302);
    const page = await agent.get('/dashboard').expect(200);
    const times = [...page.text.matchAll(/<time datetime="([^"]+)">([^<]+)<\/time>/g)];
    expect(times).to.not.have.length(0);
    for (const [, iso = '', shown = ''] of times) {
      const expected = new Intl.DateTimeFormat('fr-FR', {
        timeZone: 'America/New_York',
        hour: '2-digit',
        minute: '2-digit',
      }).format(new Date(iso));
      expect(shown)
        .to.contain(expected)
        .and.match(/UTC[−-][45]$/);
    }
  });
});
